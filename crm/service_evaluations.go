package crm

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// CreateTemplate creates version 1 of an indicator system. ADMIN only.
// Errors: UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT.
func (s *Service) CreateTemplate(ctx context.Context, in TemplateInput) (*Template, error) {
	u, err := s.templateAdmin(ctx)
	if err != nil {
		return nil, err
	}
	if err := validateTemplate(&in); err != nil {
		return nil, err
	}
	now := s.now()
	t := &Template{ID: s.newID(now), Name: in.Name, Description: in.Description, Version: 1, LatestVersion: 1,
		Indicators: slices.Clone(in.Indicators), CreatedAt: now, CreatedBy: u.ID}
	if err := s.Store.CreateTemplate(ctx, t); err != nil {
		return nil, err
	}
	return t, nil
}

// CreateTemplateVersion adds a version to a template; earlier versions stay
// as they are, so evaluations made against them keep their meaning.
// expectedLatestVersion must be the current latest version. ADMIN only.
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, BAD_USER_INPUT, CONFLICT.
func (s *Service) CreateTemplateVersion(ctx context.Context, id string, expectedLatestVersion int, in TemplateInput) (*Template, error) {
	u, err := s.templateAdmin(ctx)
	if err != nil {
		return nil, err
	}
	if err := validateTemplate(&in); err != nil {
		return nil, err
	}
	latest, err := s.Store.Template(ctx, id, 0)
	if err != nil {
		return nil, err
	}
	if latest.Version != expectedLatestVersion {
		return nil, staleVersion("template", id, expectedLatestVersion, latest.Version)
	}
	t := &Template{ID: id, Name: in.Name, Description: in.Description, Version: latest.Version + 1,
		LatestVersion: latest.Version + 1, Indicators: slices.Clone(in.Indicators), CreatedAt: s.now(), CreatedBy: u.ID}
	if err := s.Store.AddTemplateVersion(ctx, t); err != nil {
		return nil, err
	}
	return t, nil
}

func (s *Service) templateAdmin(ctx context.Context) (*User, error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if !u.HasRole(RoleAdmin) {
		return nil, Errorf(EFORBIDDEN, "only an admin may change evaluation templates")
	}
	return u, nil
}

func staff(ctx context.Context) error {
	u, err := currentUser(ctx)
	if err != nil {
		return err
	}
	if len(u.Roles) == 0 || u.IsPartner() {
		return Errorf(EFORBIDDEN, "your account has no staff role")
	}
	return nil
}

// Template returns one version of a template (0: the latest).
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND.
func (s *Service) Template(ctx context.Context, id string, version int) (*Template, error) {
	if err := staff(ctx); err != nil {
		return nil, err
	}
	if err := checkID("id", id); err != nil {
		return nil, err
	}
	if id == CaseSatisfactionTemplateID && version <= 1 {
		return CaseSatisfactionTemplate(), nil
	}
	return s.Store.Template(ctx, id, version)
}

// Templates lists the latest version of every template, newest first.
// Errors: UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT.
func (s *Service) Templates(ctx context.Context, p PageRequest) (*Page[*Template], error) {
	if err := staff(ctx); err != nil {
		return nil, err
	}
	if err := checkPage(&p); err != nil {
		return nil, err
	}
	return s.Store.ListTemplates(ctx, p)
}

// SubmitEvaluation scores a customer against a template version. The
// server computes the overall and per-dimension scores; the customer's
// indexes and its recent evaluations follow from the stream.
//
// The owner of a customer submits no evaluation of it, of any kind (with
// ForbidOwnReview, the default): what they enter moves their own
// customer's value score and grade, so it must come from someone else.
// A THIRD_PARTY evaluation names the outside party and is entered by an
// ADMIN or the team's MANAGER, who answer for it.
// Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT.
func (s *Service) SubmitEvaluation(ctx context.Context, in EvaluationInput) (*Evaluation, error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	var c checker
	checkEnum(&c, "input.kind", in.Kind, EvaluationKinds)
	c.text("input.comment", strings.TrimSpace(in.Comment), 0, MaxCommentLen)
	in.ThirdParty = strings.TrimSpace(in.ThirdParty)
	switch {
	case in.Kind == EvalThirdParty:
		c.text("input.thirdParty", in.ThirdParty, 1, MaxNameLen)
	case in.ThirdParty != "":
		c.fail("input.thirdParty", "names the outside party of a THIRD_PARTY evaluation only (kind is %s)", in.Kind)
	}
	if in.TemplateVersion < 0 {
		c.fail("input.templateVersion", "must be positive")
	}
	if err := c.result(); err != nil {
		return nil, err
	}
	now := s.now()
	at := now
	if in.EvaluatedAt != nil {
		at = in.EvaluatedAt.UTC().Truncate(time.Millisecond)
		if err := checkEventTime("input.evaluatedAt", at, now); err != nil {
			return nil, err
		}
	}
	if err := checkID("input.templateId", in.TemplateID); err != nil {
		return nil, err
	}
	cust, err := s.editable(ctx, u, in.CustomerID, canWork, "evaluate")
	if err != nil {
		return nil, err
	}
	if s.ForbidOwnReview && cust.OwnerID == u.ID {
		return nil, &Error{Code: EFORBIDDEN, Field: "input.kind",
			Message: fmt.Sprintf("conflict of interest: you own customer %s; its evaluations, of any kind, must be entered by someone else", cust.ID)}
	}
	if in.Kind == EvalThirdParty && !canAssign(u, cust) {
		return nil, &Error{Code: EFORBIDDEN, Field: "input.kind",
			Message: "only an admin or the team's manager may enter a THIRD_PARTY evaluation"}
	}
	t, err := s.Store.Template(ctx, in.TemplateID, in.TemplateVersion)
	if ErrorCode(err) == ENOTFOUND {
		return nil, Invalid("input.templateId", "no template %s version %d", in.TemplateID, in.TemplateVersion)
	} else if err != nil {
		return nil, err
	}
	overall, dims, err := ScoreEvaluation(t, in.Scores)
	if err != nil {
		return nil, err
	}
	ev := &Evaluation{
		ID: s.newID(at), CustomerID: in.CustomerID, TemplateID: t.ID, TemplateVersion: t.Version, Kind: in.Kind,
		EvaluatorID: u.ID, ThirdParty: in.ThirdParty, Scores: slices.Clone(in.Scores), Comment: strings.TrimSpace(in.Comment),
		Overall: overall, Dimensions: dims, NPS: NPSAnswer(t, in.Scores), EvaluatedAt: at,
	}
	idem, err := s.idempotency(u, "submitEvaluation", in.IdempotencyKey, in, ev.ID)
	if err != nil {
		return nil, err
	}
	// The customer's recent evaluations, indexes and a regrade follow
	// from the stream.
	err = s.Store.Apply(ctx, &Change{Scope: cust, Evaluation: ev, Idempotency: idem})
	if first, err, ok := replay(ctx, err, func(ctx context.Context, id string) (*Evaluation, error) {
		return s.Store.Evaluation(ctx, in.CustomerID, id)
	}); ok {
		return first, err
	}
	if err != nil {
		return nil, err
	}
	return ev, nil
}

// addRecentEvaluation keeps the newest evaluations on the activity and
// recomputes the indexes from them: for each dimension, the mean over the
// evaluators of each one's newest score, so several evaluators are
// combined and no single one outweighs the others by scoring often. The
// satisfaction given when a case closes is the customer's own voice on
// that case: each such evaluation counts on its own. NPS is computed the
// same way from the answers to NPS questions.
func (c *Activity) addRecentEvaluation(ev Evaluation) {
	c.RecentEvaluations = append(c.RecentEvaluations, ev.Clone())
	slices.SortFunc(c.RecentEvaluations, func(a, b Evaluation) int {
		return cmp.Or(b.EvaluatedAt.Compare(a.EvaluatedAt), strings.Compare(b.ID, a.ID))
	})
	if len(c.RecentEvaluations) > RecentEvaluationsKept {
		c.RecentEvaluations = c.RecentEvaluations[:RecentEvaluationsKept]
	}
	for _, idx := range []struct {
		d   Dimension
		dst **float64
	}{{DimSatisfaction, &c.SatisfactionIndex}, {DimLoyalty, &c.LoyaltyIndex}, {DimTrust, &c.TrustIndex},
		{DimAcceptance, &c.AcceptanceIndex}, {DimCredit, &c.CreditIndex}} {
		seen := map[string]bool{}
		sum, n := 0.0, 0
		for _, e := range c.RecentEvaluations { // newest first
			v, ok := e.DimensionScore(idx.d)
			if !ok || seen[e.voice()] {
				continue
			}
			seen[e.voice()] = true
			sum += v
			n++
		}
		if n > 0 {
			*idx.dst = ptr(round2(sum / float64(n)))
		}
	}
	seen := map[string]bool{}
	var answers []int
	for _, e := range c.RecentEvaluations {
		if e.NPS != nil && !seen[e.voice()] {
			seen[e.voice()] = true
			answers = append(answers, *e.NPS)
		}
	}
	if len(answers) > 0 {
		c.NPS = ptr(NetPromoterScore(answers))
	}
}

// voice says whose opinion an evaluation is, so that each voice counts
// once in the indexes.
func (e *Evaluation) voice() string {
	if e.CaseID != "" {
		return "case#" + e.CaseID
	}
	return e.EvaluatorID
}

// Evaluations lists a customer's evaluations, newest first.
// Errors: UNAUTHENTICATED, NOT_FOUND, BAD_USER_INPUT.
func (s *Service) Evaluations(ctx context.Context, customerID string, p PageRequest) (*Page[*Evaluation], error) {
	page, err := customerList(ctx, s, customerID, p, s.Store.ListEvaluations)
	return viewPage(UserFromContext(ctx), page, viewEvaluation), err
}
