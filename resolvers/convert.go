package resolvers

import (
	"maps"
	"slices"
	"time"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/graph/model"
)

// Converters between domain values and GraphQL models: the one place where
// the two shapes meet.

// opt maps "" to null.
func opt(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// optIn maps "" to null, and any other string to itself, where it is: the
// models of a read (a 360's customer, contacts and interactions) point
// into the domain values converted, as their other pointer fields do
// (amounts, dates), instead of copying each string to a new one.
func optIn(p *string) *string {
	if *p == "" {
		return nil
	}
	return p
}

func val[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func mapAll[A, B any](in []A, f func(A) B) []B {
	out := make([]B, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

func toGradeLevel(l crm.GradeLevel) *model.GradeLevel {
	return &model.GradeLevel{Code: l.Code, Label: l.Label, Rank: l.Rank, Description: l.Description,
		ResponseSLAHours: int(l.ResponseSLA / time.Hour), ResolutionSLAHours: int(l.ResolutionSLA / time.Hour),
		FollowUpIntervalDays: days(l.FollowUpInterval),
		PoolAllowed:          !l.KeepOutOfPool, TakeBackWithoutContactDays: days(l.TakeBackWithoutContact),
		TakeBackWithoutDealDays: days(l.TakeBackWithoutDeal)}
}

func days(d time.Duration) int { return int(d / (24 * time.Hour)) }

// toPoolReturn says a take-back deadline in the schema's terms.
func toPoolReturn(r *crm.PoolReturn) *model.PoolReturn {
	if r == nil {
		return nil
	}
	return &model.PoolReturn{Rule: model.TakeBackRule(r.Rule), Since: r.Since, Days: days(r.Period), DueAt: r.DueAt,
		WarnedAt: r.WarnedAt}
}

func toCustomer(c *crm.Customer) *model.Customer {
	return &model.Customer{
		ID: c.ID, Kind: model.CustomerKind(c.Kind), Name: c.Name,
		Phones: nonNil(c.Phones), Emails: nonNil(c.Emails),
		Addresses: mapAll(c.Addresses, func(a crm.Address) *model.Address {
			return &model.Address{Label: opt(a.Label), Line1: opt(a.Line1), Line2: opt(a.Line2), City: opt(a.City),
				Region: opt(a.Region), PostalCode: opt(a.PostalCode), Country: opt(a.Country)}
		}),
		Industry: optIn(&c.Industry), Region: optIn(&c.Region), Source: model.CustomerSource(c.Source),
		AnnualRevenue: c.AnnualRevenue, CreditRating: optIn(&c.CreditRating), CreditCode: optIn(&c.CreditCode), Tags: nonNil(c.Tags),
		CompanyStatus: optEnum[model.CompanyStatus](c.CompanyStatus),
		Attributes: mapAll(c.Attributes, func(a crm.Attribute) *model.Attribute {
			return &model.Attribute{Key: a.Key, Value: a.Value}
		}),
		Stage: model.LifecycleStage(c.Stage), Status: model.CustomerStatus(c.Status),
		OwnerID: optIn(&c.OwnerID), InPool: c.InPool(), Team: optIn(&c.Team), Partners: mapAll(c.Partners, toPartnerShare),
		Claim: toClaim(c.Claim), LastHolder: optIn(&c.LastHolder), ReturnedAt: c.ReturnedAt, LastHandover: toOwnerChange(c.LastHandover),
		Grade:      toCurrentGrade(c.Grade),
		ValueScore: c.ValueScore, ValueTier: optEnum[model.ValueTier](c.ValueTier),
		TransactionCount: c.Transactions.Count, TransactionTotal: c.Transactions.Total,
		FirstTransactionAt: c.Transactions.FirstAt, LastTransactionAt: c.Transactions.LastAt, Nps: c.NPS,
		OpenCases: mapAll(c.OpenCases, toCaseSummary), OpenCaseCount: c.OpenCaseCount,
		SatisfactionIndex: c.SatisfactionIndex, LoyaltyIndex: c.LoyaltyIndex, TrustIndex: c.TrustIndex,
		AcceptanceIndex: c.AcceptanceIndex, CreditIndex: c.CreditIndex,
		RecentEvaluations: mapAll(c.RecentEvaluations, func(e crm.Evaluation) *model.Evaluation { return toEvaluation(&e) }),
		LastInteractionAt: c.LastInteractionAt, NextFollowUpAt: c.NextFollowUpAt,
		InteractionCount: c.InteractionCount, ContactCount: c.ContactCount,
		Verification: model.Verification(c.Verification), VerifiedBy: optIn(&c.VerifiedBy), VerifiedAt: c.VerifiedAt,
		FieldVerifications: mapAll(c.FieldVerifications, func(v crm.FieldVerification) *model.FieldVerification {
			return &model.FieldVerification{Field: model.CustomerField(v.Field), By: v.By, At: v.At}
		}),
		MergedInto: optIn(&c.MergedInto), MergingFrom: optIn(&c.MergingFrom), MergedAt: c.MergedAt,
		Version: c.Version, CreatedAt: c.CreatedAt, CreatedBy: c.CreatedBy, UpdatedAt: c.UpdatedAt,
		UpdatedBy: c.UpdatedBy, ArchivedAt: c.ArchivedAt,
	}
}

// optEnum maps "" to null and any other value to the enum of the same name.
func optEnum[E ~string, D ~string](v D) *E {
	if v == "" {
		return nil
	}
	e := E(v)
	return &e
}

func toCurrentGrade(g crm.GradeState) *model.CurrentGrade {
	out := &model.CurrentGrade{LevelCode: g.Level, Source: model.GradeSource(g.Source), Reason: opt(g.Reason),
		Rule: opt(g.Rule), SetBy: opt(g.By), SetAt: g.At, Metrics: toMetrics(g.Metrics)}
	if g.Source != crm.GradeManual {
		out.PolicyVersion = &g.PolicyVersion
	}
	return out
}

// toMetrics lists metric values by name, so the output is stable.
func toMetrics(m map[string]float64) []*model.Metric {
	out := make([]*model.Metric, 0, len(m))
	for _, name := range slices.Sorted(maps.Keys(m)) {
		out = append(out, &model.Metric{Name: name, Value: m[name]})
	}
	return out
}

func toCaseSummary(o crm.CaseSummary) *model.CaseSummary {
	return &model.CaseSummary{ID: o.ID, Type: model.InteractionType(o.Type), Subject: opt(o.Subject),
		Priority: model.Priority(o.Priority), Status: model.CaseStatus(o.Status), DueAt: o.DueAt, Escalated: o.Escalated}
}

func toClaim(c *crm.Claim) *model.Claim {
	if c == nil {
		return nil
	}
	return &model.Claim{By: c.By, At: c.At, ExpiresAt: c.ExpiresAt, FollowedUpAt: c.FollowedUpAt, WarnedAt: c.WarnedAt}
}

func toContact(c *crm.Contact) *model.Contact {
	return &model.Contact{ID: c.ID, CustomerID: c.CustomerID, Name: c.Name, Title: optIn(&c.Title),
		Role: model.ContactRole(c.Role), Phones: nonNil(c.Phones), Emails: nonNil(c.Emails), Primary: c.Primary,
		Version: c.Version, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

func toInteraction(i *crm.Interaction) *model.Interaction {
	return &model.Interaction{
		ID: i.ID, CustomerID: i.CustomerID, Channel: model.Channel(i.Channel), Direction: model.Direction(i.Direction),
		Type: model.InteractionType(i.Type), Subject: optIn(&i.Subject), Content: optIn(&i.Content), OccurredAt: i.OccurredAt,
		DurationSeconds: i.DurationSeconds, HandledBy: optIn(&i.HandledBy), ContactID: optIn(&i.ContactID),
		Outcome: optIn(&i.Outcome), Attachments: nonNil(i.Attachments), NextFollowUpAt: i.NextFollowUpAt,
		Amount: i.Amount, Currency: optIn(&i.Currency), Version: i.Version, CreatedAt: i.CreatedAt,
		CreatedBy: i.CreatedBy, UpdatedAt: i.UpdatedAt, UpdatedBy: i.UpdatedBy,
	}
}

func toGradeChange(g *crm.GradeChange) *model.GradeChange {
	m := &model.GradeChange{ID: g.ID, CustomerID: g.CustomerID, From: opt(g.From), To: g.To,
		Source: model.GradeSource(g.Source), Reason: opt(g.Reason), Rule: opt(g.Rule), By: opt(g.By), At: g.At,
		MergedFrom: opt(g.MergedFrom), Metrics: toMetrics(g.Metrics)}
	if g.Source != crm.GradeManual {
		m.PolicyVersion = &g.PolicyVersion
	}
	return m
}

func toEvaluation(e *crm.Evaluation) *model.Evaluation {
	return &model.Evaluation{
		ID: e.ID, CustomerID: e.CustomerID, TemplateID: e.TemplateID, TemplateVersion: e.TemplateVersion,
		Kind: model.EvaluationKind(e.Kind), EvaluatorID: e.EvaluatorID, ThirdParty: opt(e.ThirdParty), Comment: opt(e.Comment), Overall: e.Overall,
		Nps: e.NPS, CaseID: opt(e.CaseID), EvaluatedAt: e.EvaluatedAt,
		Scores: mapAll(e.Scores, func(s crm.IndicatorScore) *model.IndicatorScore {
			return &model.IndicatorScore{Key: s.Key, Value: s.Value}
		}),
		Dimensions: mapAll(e.Dimensions, func(d crm.DimensionScore) *model.DimensionScore {
			return &model.DimensionScore{Dimension: model.Dimension(d.Dimension), Score: d.Score}
		}),
	}
}

func toTemplate(t *crm.Template) *model.Template {
	return &model.Template{ID: t.ID, Name: t.Name, Description: opt(t.Description), Version: t.Version,
		LatestVersion: t.LatestVersion, CreatedAt: t.CreatedAt, CreatedBy: t.CreatedBy,
		Indicators: mapAll(t.Indicators, func(i crm.Indicator) *model.Indicator {
			return &model.Indicator{Key: i.Key, Name: i.Name, Dimension: model.Dimension(i.Dimension),
				Weight: i.Weight, ScaleMin: i.ScaleMin, ScaleMax: i.ScaleMax, Nps: i.NPS}
		})}
}

func toViewer(u *crm.User) *model.Viewer {
	return &model.Viewer{ID: u.ID, Name: opt(u.Name), Email: opt(u.Email), Teams: nonNil(u.Teams), PartnerID: opt(u.PartnerOrgID),
		DepartmentID: opt(u.Department),
		Roles:        mapAll(u.Roles, func(r crm.Role) model.Role { return model.Role(r) })}
}

// pageInfo and edges build a connection from a domain page.
func pageInfo[T any](p *crm.Page[T]) *model.PageInfo {
	pi := &model.PageInfo{HasNextPage: p.HasNext, EndCursor: opt(p.EndCursor)}
	if len(p.Cursors) > 0 {
		pi.StartCursor = &p.Cursors[0]
	}
	return pi
}

// edges builds a connection's edges, each with its item's cursor.
func edges[T, E any](p *crm.Page[T], edge func(cursor string, item T) E) []E {
	out := make([]E, len(p.Items))
	for i, it := range p.Items {
		out[i] = edge(p.Cursors[i], it)
	}
	return out
}

func customerConnection(p *crm.Page[*crm.Customer]) *model.CustomerConnection {
	return &model.CustomerConnection{PageInfo: pageInfo(p), Counted: model.Counted{Total: p.Total},
		Edges: edges(p, func(cursor string, it *crm.Customer) *model.CustomerEdge {
			return &model.CustomerEdge{Cursor: cursor, Node: toCustomer(it)}
		})}
}

func interactionConnection(p *crm.Page[*crm.Interaction]) *model.InteractionConnection {
	return &model.InteractionConnection{PageInfo: pageInfo(p), Counted: model.Counted{Total: p.Total},
		Edges: edges(p, func(cursor string, it *crm.Interaction) *model.InteractionEdge {
			return &model.InteractionEdge{Cursor: cursor, Node: toInteraction(it)}
		})}
}

func gradeChangeConnection(p *crm.Page[*crm.GradeChange]) *model.GradeChangeConnection {
	return &model.GradeChangeConnection{PageInfo: pageInfo(p), Counted: model.Counted{Total: p.Total},
		Edges: edges(p, func(cursor string, it *crm.GradeChange) *model.GradeChangeEdge {
			return &model.GradeChangeEdge{Cursor: cursor, Node: toGradeChange(it)}
		})}
}

func evaluationConnection(p *crm.Page[*crm.Evaluation]) *model.EvaluationConnection {
	return &model.EvaluationConnection{PageInfo: pageInfo(p), Counted: model.Counted{Total: p.Total},
		Edges: edges(p, func(cursor string, it *crm.Evaluation) *model.EvaluationEdge {
			return &model.EvaluationEdge{Cursor: cursor, Node: toEvaluation(it)}
		})}
}

func stageChangeConnection(p *crm.Page[*crm.StageChange]) *model.StageChangeConnection {
	return &model.StageChangeConnection{PageInfo: pageInfo(p), Counted: model.Counted{Total: p.Total},
		Edges: edges(p, func(cursor string, it *crm.StageChange) *model.StageChangeEdge {
			return &model.StageChangeEdge{Cursor: cursor, Node: &model.StageChange{
				ID: it.ID, CustomerID: it.CustomerID, From: optEnum[model.LifecycleStage](it.From), To: model.LifecycleStage(it.To),
				Reason: opt(it.Reason), By: it.By, At: it.At, MergedFrom: opt(it.MergedFrom)}}
		})}
}

func toCase(c *crm.Case) *model.Case {
	return &model.Case{
		ID: c.ID, CustomerID: c.CustomerID, Type: model.InteractionType(c.Type), Subject: opt(c.Subject),
		Priority: model.Priority(c.Priority), Status: model.CaseStatus(c.Status), AssignedTo: opt(c.AssignedTo),
		Department: opt(c.Department), Plan: opt(c.Plan), OpenedAt: c.OpenedAt, DueAt: c.DueAt,
		RespondBy: nonZero(c.RespondBy), ResolveBy: nonZero(c.ResolveBy), FirstResponseAt: c.FirstResponseAt(),
		ResolvedAt:  c.ResolvedAt(),
		EscalatedAt: c.EscalatedAt, Satisfaction: c.Satisfaction, Version: c.Version, UpdatedAt: c.UpdatedAt,
		Transitions: mapAll(c.Transitions, func(t crm.CaseTransition) *model.CaseTransition {
			return &model.CaseTransition{From: cast[model.CaseStatus](opt(string(t.From))), To: model.CaseStatus(t.To),
				By: t.By, At: t.At, Note: opt(t.Note)}
		}),
	}
}

func caseConnection(p *crm.Page[*crm.Case]) *model.CaseConnection {
	return &model.CaseConnection{PageInfo: pageInfo(p), Counted: model.Counted{Total: p.Total},
		Edges: edges(p, func(cursor string, it *crm.Case) *model.CaseEdge {
			return &model.CaseEdge{Cursor: cursor, Node: toCase(it)}
		})}
}

func templateConnection(p *crm.Page[*crm.Template]) *model.TemplateConnection {
	return &model.TemplateConnection{PageInfo: pageInfo(p), Counted: model.Counted{Total: p.Total},
		Edges: edges(p, func(cursor string, it *crm.Template) *model.TemplateEdge {
			return &model.TemplateEdge{Cursor: cursor, Node: toTemplate(it)}
		})}
}

func fromAddresses(in []*model.AddressInput) []crm.Address {
	if in == nil {
		return nil
	}
	return mapAll(in, func(a *model.AddressInput) crm.Address {
		return crm.Address{Label: val(a.Label), Line1: val(a.Line1), Line2: val(a.Line2), City: val(a.City),
			Region: val(a.Region), PostalCode: val(a.PostalCode), Country: val(a.Country)}
	})
}

func fromAttributes(in []*model.AttributeInput) []crm.Attribute {
	if in == nil {
		return nil
	}
	return mapAll(in, func(a *model.AttributeInput) crm.Attribute { return crm.Attribute{Key: a.Key, Value: a.Value} })
}

// cast converts an optional GraphQL enum to its domain type.
func cast[D ~string, M ~string](m *M) *D {
	if m == nil {
		return nil
	}
	d := D(*m)
	return &d
}

func fromCreateCustomer(in model.CreateCustomerInput) crm.CustomerInput {
	return crm.CustomerInput{
		Kind: crm.CustomerKind(in.Kind), Name: in.Name, Phones: in.Phones, Emails: in.Emails,
		Addresses: fromAddresses(in.Addresses), Industry: val(in.Industry), Region: val(in.Region),
		Source: val(cast[crm.Source](in.Source)), AnnualRevenue: in.AnnualRevenue, CreditRating: val(in.CreditRating),
		CreditCode: val(in.CreditCode),
		Tags:       in.Tags, Attributes: fromAttributes(in.Attributes), Stage: val(cast[crm.Stage](in.Stage)),
		OwnerID: in.OwnerID, Team: val(in.Team), Grade: val(in.Grade), IdempotencyKey: val(in.IdempotencyKey),
		CompanyStatus: val(cast[crm.CompanyStatus](in.CompanyStatus)), StageReason: val(in.StageReason),
	}
}

func fromUpdateCustomer(in model.UpdateCustomerInput) crm.CustomerUpdate {
	return crm.CustomerUpdate{
		Kind: cast[crm.CustomerKind](in.Kind), Name: in.Name, Phones: in.Phones, Emails: in.Emails,
		Addresses: fromAddresses(in.Addresses), Industry: in.Industry, Region: in.Region,
		Source: cast[crm.Source](in.Source), AnnualRevenue: in.AnnualRevenue, CreditRating: in.CreditRating,
		CreditCode:    in.CreditCode,
		CompanyStatus: cast[crm.CompanyStatus](in.CompanyStatus),
		Tags:          in.Tags, Attributes: fromAttributes(in.Attributes), Stage: cast[crm.Stage](in.Stage),
		OwnerID: in.OwnerID, Team: in.Team, NextFollowUpAt: in.NextFollowUpAt,
		Verification: cast[crm.Verification](in.Verification),
	}
}

func mergeConnection(p *crm.Page[*crm.MergeRecord]) *model.CustomerMergeConnection {
	return &model.CustomerMergeConnection{PageInfo: pageInfo(p), Counted: model.Counted{Total: p.Total},
		Edges: edges(p, func(cursor string, it *crm.MergeRecord) *model.CustomerMergeEdge {
			return &model.CustomerMergeEdge{Cursor: cursor, Node: &model.CustomerMerge{
				ID: it.ID, CustomerID: it.CustomerID, SurvivorID: it.SurvivorID, MergedID: it.MergedID,
				MergedName: it.MergedName, Reason: it.Reason, By: it.By, At: it.At, Interactions: it.Interactions,
				Contacts: it.Contacts, Phones: nonNil(it.Phones), Emails: nonNil(it.Emails), Tags: nonNil(it.Tags)}}
		})}
}

func fromMergeInput(in model.MergeCustomersInput) crm.MergeInput {
	return crm.MergeInput{SurvivorID: in.SurvivorID, MergedID: in.MergedID, ExpectedSurvivorVersion: in.ExpectedSurvivorVersion,
		ExpectedMergedVersion: in.ExpectedMergedVersion, Reason: in.Reason}
}

func fromCustomerFields(in []model.CustomerField) []crm.CustomerField {
	return mapAll(in, func(f model.CustomerField) crm.CustomerField { return crm.CustomerField(f) })
}

func fromFilter(f *model.CustomerFilter) crm.CustomerFilter {
	if f == nil {
		return crm.CustomerFilter{}
	}
	return crm.CustomerFilter{OwnerID: val(f.OwnerID), Pool: val(f.Pool), Grade: val(f.Grade),
		Stage: val(cast[crm.Stage](f.Stage)), Region: val(f.Region), Team: val(f.Team), Tag: val(f.Tag),
		ValueTier: val(cast[crm.ValueTier](f.ValueTier)), Industry: val(f.Industry), Kind: val(cast[crm.CustomerKind](f.Kind)),
		Source: val(cast[crm.Source](f.Source)), IncludeArchived: val(f.IncludeArchived)}
}

func fromOrder(o *model.CustomerOrder) crm.CustomerOrder {
	if o == nil {
		return crm.CustomerOrder{}
	}
	return crm.CustomerOrder{Field: crm.OrderField(o.Field), Ascending: o.Direction == model.OrderDirectionAsc}
}

func fromContactInput(in model.ContactInput) crm.ContactInput {
	return crm.ContactInput{Name: in.Name, Title: val(in.Title), Role: val(cast[crm.ContactRole](in.Role)),
		Phones: in.Phones, Emails: in.Emails, Primary: val(in.Primary), IdempotencyKey: val(in.IdempotencyKey)}
}

func fromUpdateContact(in model.UpdateContactInput) crm.ContactUpdate {
	return crm.ContactUpdate{Name: in.Name, Title: in.Title, Role: cast[crm.ContactRole](in.Role),
		Phones: in.Phones, Emails: in.Emails, Primary: in.Primary}
}

func fromLogInteraction(in model.LogInteractionInput) crm.InteractionInput {
	return crm.InteractionInput{
		CustomerID: in.CustomerID, Channel: crm.Channel(in.Channel), Direction: val(cast[crm.Direction](in.Direction)),
		Type: crm.InteractionType(in.Type), Subject: val(in.Subject), Content: val(in.Content), OccurredAt: in.OccurredAt,
		DurationSeconds: in.DurationSeconds, HandledBy: val(in.HandledBy), ContactID: val(in.ContactID),
		Outcome: val(in.Outcome), Attachments: in.Attachments, NextFollowUpAt: in.NextFollowUpAt,
		Amount: in.Amount, Currency: val(in.Currency), Priority: val(cast[crm.Priority](in.Priority)),
		IdempotencyKey: val(in.IdempotencyKey),
	}
}

func fromUpdateInteraction(in model.UpdateInteractionInput) crm.InteractionUpdate {
	return crm.InteractionUpdate{
		Channel: cast[crm.Channel](in.Channel), Direction: cast[crm.Direction](in.Direction),
		Type: cast[crm.InteractionType](in.Type), Subject: in.Subject, Content: in.Content,
		DurationSeconds: in.DurationSeconds, ContactID: in.ContactID, Outcome: in.Outcome,
		Attachments: in.Attachments, NextFollowUpAt: in.NextFollowUpAt, Amount: in.Amount, Currency: in.Currency,
	}
}

func fromTemplateInput(in model.TemplateInput) crm.TemplateInput {
	return crm.TemplateInput{Name: in.Name, Description: val(in.Description),
		Indicators: mapAll(in.Indicators, func(i *model.IndicatorInput) crm.Indicator {
			return crm.Indicator{Key: i.Key, Name: i.Name, Dimension: crm.Dimension(i.Dimension), Weight: i.Weight,
				ScaleMin: i.ScaleMin, ScaleMax: i.ScaleMax, NPS: val(i.Nps)}
		})}
}

func fromSubmitEvaluation(in model.SubmitEvaluationInput) crm.EvaluationInput {
	return crm.EvaluationInput{CustomerID: in.CustomerID, TemplateID: in.TemplateID,
		TemplateVersion: val(in.TemplateVersion), Kind: crm.EvaluationKind(in.Kind), ThirdParty: val(in.ThirdParty), Comment: val(in.Comment),
		EvaluatedAt: in.EvaluatedAt, IdempotencyKey: val(in.IdempotencyKey),
		Scores: mapAll(in.Scores, func(s *model.IndicatorScoreInput) crm.IndicatorScore {
			return crm.IndicatorScore{Key: s.Key, Value: s.Value}
		})}
}

// page translates a connection's arguments. first defaults to 20 in the
// schema; an explicit null asks for the default too.
func page(first *int, after *string) crm.PageRequest {
	return crm.PageRequest{First: size(first, crm.DefaultPageSize), After: val(after)}
}

// size is a page size the caller sent, or def for null. Every size sent,
// 0 included, goes to the service, which refuses those out of range.
func size(first *int, def int) int {
	if first == nil {
		return def
	}
	return *first
}

func timeRange(from, to *time.Time) crm.TimeRange {
	return crm.TimeRange{From: val(from), To: val(to)}
}

func toGradingPolicy(p *crm.GradingPolicy) *model.GradingPolicy {
	out := &model.GradingPolicy{
		Version: p.Version, Levels: mapAll(p.Levels, toGradeLevel), ManualHoldDays: p.ManualHoldDays,
		StrongIndustries: nonNil(p.StrongIndustries),
		Rules: mapAll(p.Rules, func(r crm.GradingRule) *model.GradingRule {
			return &model.GradingRule{Name: r.Name, Level: r.Level, Description: opt(r.Description),
				Conditions: mapAll(r.Conditions, func(c crm.Condition) *model.RuleCondition {
					return &model.RuleCondition{Metric: c.Metric, Op: model.Comparison(c.Op), Value: c.Value}
				})}
		}),
		ValueFormula: &model.ValueFormula{RecencyWeight: p.Value.RecencyWeight, FrequencyWeight: p.Value.FrequencyWeight,
			MonetaryWeight: p.Value.MonetaryWeight, AssetWeight: p.Value.AssetWeight, EvaluationWeight: p.Value.EvaluationWeight,
			RecencyHorizonDays: p.Value.RecencyHorizonDays, FrequencyReference: p.Value.FrequencyReference,
			MonetaryReference: p.Value.MonetaryReference, AssetReference: p.Value.AssetReference},
		Tiers: &model.TierCutoffs{KeyPercent: p.Tiers.KeyPercent, MajorPercent: p.Tiers.MajorPercent,
			OrdinaryPercent: p.Tiers.OrdinaryPercent},
		Metrics: mapAll(crm.GradeMetrics, func(m crm.MetricInfo) *model.GradeMetric {
			return &model.GradeMetric{Name: m.Name, Description: m.Description}
		}),
		UpdatedBy: opt(p.UpdatedBy),
	}
	slices.SortStableFunc(out.Levels, func(a, b *model.GradeLevel) int { return a.Rank - b.Rank })
	if !p.UpdatedAt.IsZero() {
		out.UpdatedAt = &p.UpdatedAt
	}
	return out
}

func fromGradingPolicyInput(in model.GradingPolicyInput) crm.GradingPolicyInput {
	f := in.ValueFormula
	return crm.GradingPolicyInput{
		Levels: mapAll(in.Levels, func(l *model.GradeLevelInput) crm.GradeLevel {
			return crm.GradeLevel{Code: l.Code, Label: l.Label, Rank: l.Rank, Description: val(l.Description),
				ResponseSLA:            time.Duration(l.ResponseSLAHours) * time.Hour,
				ResolutionSLA:          time.Duration(val(l.ResolutionSLAHours)) * time.Hour,
				FollowUpInterval:       time.Duration(l.FollowUpIntervalDays) * 24 * time.Hour,
				KeepOutOfPool:          l.PoolAllowed != nil && !*l.PoolAllowed,
				TakeBackWithoutContact: time.Duration(val(l.TakeBackWithoutContactDays)) * 24 * time.Hour,
				TakeBackWithoutDeal:    time.Duration(val(l.TakeBackWithoutDealDays)) * 24 * time.Hour}
		}),
		Rules: mapAll(in.Rules, func(r *model.GradingRuleInput) crm.GradingRule {
			return crm.GradingRule{Name: r.Name, Level: r.Level, Description: val(r.Description),
				Conditions: mapAll(r.Conditions, func(c *model.RuleConditionInput) crm.Condition {
					return crm.Condition{Metric: c.Metric, Op: crm.Comparison(c.Op), Value: c.Value}
				})}
		}),
		Value: crm.ValueFormula{RecencyWeight: f.RecencyWeight, FrequencyWeight: f.FrequencyWeight,
			MonetaryWeight: f.MonetaryWeight, AssetWeight: f.AssetWeight, EvaluationWeight: f.EvaluationWeight,
			RecencyHorizonDays: f.RecencyHorizonDays, FrequencyReference: f.FrequencyReference,
			MonetaryReference: f.MonetaryReference, AssetReference: f.AssetReference},
		Tiers: crm.TierCutoffs{KeyPercent: in.Tiers.KeyPercent, MajorPercent: in.Tiers.MajorPercent,
			OrdinaryPercent: in.Tiers.OrdinaryPercent},
		ManualHoldDays:   in.ManualHoldDays,
		StrongIndustries: in.StrongIndustries,
	}
}

func fromAuditFilter(f *model.AuditFilter) crm.AuditFilter {
	if f == nil {
		return crm.AuditFilter{}
	}
	return crm.AuditFilter{CustomerID: val(f.CustomerID), Day: val(f.Day), Actor: val(f.Actor), Operation: val(f.Operation),
		ImportID: val(f.ImportID)}
}

func auditConnection(p *crm.Page[*crm.AuditEntry]) *model.AuditEntryConnection {
	return &model.AuditEntryConnection{PageInfo: pageInfo(p), Counted: model.Counted{Total: p.Total},
		Edges: edges(p, func(cursor string, e *crm.AuditEntry) *model.AuditEntryEdge {
			return &model.AuditEntryEdge{Cursor: cursor, Node: &model.AuditEntry{
				ID: e.ID, At: e.At, Actor: e.Actor, Operation: opt(e.Operation), RequestID: opt(e.RequestID), ImportID: opt(e.ImportID),
				Roles: mapAll(e.Roles, func(r crm.Role) string { return string(r) }),
				Changes: mapAll(e.Changes, func(c crm.AuditChange) *model.AuditChange {
					return &model.AuditChange{Entity: c.Entity, ID: c.ID, CustomerID: opt(c.CustomerID),
						Action: model.AuditAction(c.Action),
						Fields: mapAll(c.Fields, func(f crm.FieldChange) *model.FieldChange {
							return &model.FieldChange{Name: f.Name, Before: opt(f.Before), After: opt(f.After)}
						})}
				})}}
		})}
}

func toOwnerChange(h *crm.OwnerChange) *model.OwnerChange {
	if h == nil {
		return nil
	}
	return &model.OwnerChange{From: opt(h.From), To: opt(h.To), Reason: opt(h.Reason), By: h.By, At: h.At}
}

// nonZero is t, or nil when t is the zero time (not known).
func nonZero(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// toStageSuggestion says a suggested stage change in the schema's terms.
func toStageSuggestion(g *crm.StageSuggestion) *model.StageSuggestion {
	if g == nil {
		return nil
	}
	return &model.StageSuggestion{Stage: model.LifecycleStage(g.Stage), Reason: g.Reason, Since: g.Since}
}
