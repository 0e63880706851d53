package crm

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

// bound is one limit of a validation rule, tried from both sides: the input
// at the limit is accepted, one step past it is refused with
// BAD_USER_INPUT naming field.
type bound struct {
	name  string
	field string
	at    func() error
	past  func() error
}

// chars is a string of n characters, each three bytes in UTF-8: limits
// count characters, which is what a Chinese name is made of.
func chars(n int) string { return strings.Repeat("中", n) }

func list(n int, f func(i int) string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

func phones(n int) []string {
	return list(n, func(i int) string { return fmt.Sprintf("+86138000000%02d", i) })
}
func emails(n int) []string {
	return list(n, func(i int) string { return fmt.Sprintf("p%d@example.cn", i) })
}
func tagList(n int) []string { return list(n, func(i int) string { return fmt.Sprintf("t%d", i) }) }

// justAbove and justBelow are the nearest numbers past a limit.
func justAbove(v float64) float64 { return math.Nextafter(v, math.Inf(1)) }
func justBelow(v float64) float64 { return math.Nextafter(v, math.Inf(-1)) }

func customerBound(name, field string, at, past func(*Customer)) bound {
	run := func(edit func(*Customer)) func() error {
		return func() error { c := validCustomer(); edit(c); return validateCustomer(c) }
	}
	return bound{name, field, run(at), run(past)}
}

func contactBound(name, field string, at, past func(*Contact)) bound {
	run := func(edit func(*Contact)) func() error {
		return func() error { c := &Contact{Name: "Li Wei", Role: ContactRoles[0]}; edit(c); return validateContact(c) }
	}
	return bound{name, field, run(at), run(past)}
}

func interactionBound(name, field string, at, past func(*Interaction)) bound {
	run := func(edit func(*Interaction)) func() error {
		return func() error {
			it := &Interaction{Channel: ChannelPhone, Direction: Inbound, Type: TypeCall}
			edit(it)
			return validateInteraction(it)
		}
	}
	return bound{name, field, run(at), run(past)}
}

// transaction sets a transaction of amount a.
func transaction(a float64) func(*Interaction) {
	return func(it *Interaction) { it.Type, it.Amount, it.Currency = TypeTransaction, &a, "CNY" }
}

func templateBound(name, field string, at, past func(*TemplateInput)) bound {
	run := func(edit func(*TemplateInput)) func() error {
		return func() error {
			t := &TemplateInput{Name: "T", Indicators: []Indicator{{Key: "a", Name: "a", Dimension: DimTrust, Weight: 1, ScaleMin: 1, ScaleMax: 5}}}
			edit(t)
			return validateTemplate(t)
		}
	}
	return bound{name, field, run(at), run(past)}
}

// indicators are n indicators of equal weight.
func indicators(n int) []Indicator {
	out := make([]Indicator, n)
	for i := range out {
		out[i] = Indicator{Key: fmt.Sprintf("k%d", i), Name: "k", Dimension: DimTrust, Weight: 1 / float64(n), ScaleMin: 1, ScaleMax: 5}
	}
	return out
}

func policyBound(name, field string, at, past func(*GradingPolicyInput)) bound {
	run := func(edit func(*GradingPolicyInput)) func() error {
		return func() error { in := policyInput(); edit(&in); return validatePolicy(&in) }
	}
	return bound{name, field, run(at), run(past)}
}

// rules are n rules with distinct names.
func rules(n int) []GradingRule {
	out := make([]GradingRule, n)
	for i := range out {
		out[i] = GradingRule{Name: fmt.Sprintf("r%d", i), Level: "F"}
	}
	return out
}

func conditions(n int) []Condition {
	out := make([]Condition, n)
	for i := range out {
		out[i] = cond(MetricInteractionCount, CmpGTE, float64(i))
	}
	return out
}

// Every limit of crm/validate.go, and of the grading policy's, the stage
// reason's and the tag change's, from both sides.
func TestValidationBoundsOnBothSides(t *testing.T) {
	bounds := []bound{
		// Customers.
		customerBound("NameMin", "input.name", func(c *Customer) { c.Name = chars(1) }, func(c *Customer) { c.Name = " " }),
		customerBound("NameMax", "input.name", func(c *Customer) { c.Name = chars(MaxNameLen) }, func(c *Customer) { c.Name = chars(MaxNameLen + 1) }),
		customerBound("PhoneCount", "input.phones", func(c *Customer) { c.Phones = phones(MaxPhones) },
			func(c *Customer) { c.Phones = phones(MaxPhones + 1) }),
		customerBound("PhoneDigitsMin", "input.phones[0]", func(c *Customer) { c.Phones = []string{"+44 1234"} },
			func(c *Customer) { c.Phones = []string{"+44 123"} }),
		customerBound("PhoneDigitsMax", "input.phones[0]", func(c *Customer) { c.Phones = []string{"+44 1234567890123"} },
			func(c *Customer) { c.Phones = []string{"+44 12345678901234"} }),
		customerBound("EmailCount", "input.emails", func(c *Customer) { c.Emails = emails(MaxEmails) },
			func(c *Customer) { c.Emails = emails(MaxEmails + 1) }),
		customerBound("EmailLength", "input.emails[0]", func(c *Customer) { c.Emails = []string{strings.Repeat("a", 242) + "@example.com"} },
			func(c *Customer) { c.Emails = []string{strings.Repeat("a", 243) + "@example.com"} }),
		customerBound("AddressCount", "input.addresses", func(c *Customer) { c.Addresses = make([]Address, MaxAddresses) },
			func(c *Customer) { c.Addresses = make([]Address, MaxAddresses+1) }),
		customerBound("AddressLine", "input.addresses[0].line1", func(c *Customer) { c.Addresses = []Address{{Line1: chars(MaxNameLen)}} },
			func(c *Customer) { c.Addresses = []Address{{Line1: chars(MaxNameLen + 1)}} }),
		customerBound("Industry", "input.industry", func(c *Customer) { c.Industry = chars(MaxShortText) },
			func(c *Customer) { c.Industry = chars(MaxShortText + 1) }),
		customerBound("Region", "input.region", func(c *Customer) { c.Region = chars(MaxShortText) },
			func(c *Customer) { c.Region = chars(MaxShortText + 1) }),
		customerBound("AnnualRevenueMin", "input.annualRevenue", func(c *Customer) { c.AnnualRevenue = ptr(0.0) },
			func(c *Customer) { c.AnnualRevenue = ptr(-0.01) }),
		customerBound("AnnualRevenueMax", "input.annualRevenue", func(c *Customer) { c.AnnualRevenue = ptr(float64(MaxMoney)) },
			func(c *Customer) { c.AnnualRevenue = ptr(justAbove(MaxMoney)) }),
		customerBound("AnnualRevenueNaN", "input.annualRevenue", func(c *Customer) { c.AnnualRevenue = ptr(1.0) },
			func(c *Customer) { c.AnnualRevenue = ptr(math.NaN()) }),
		customerBound("CreditRating", "input.creditRating", func(c *Customer) { c.CreditRating = chars(MaxCreditRatingLen) },
			func(c *Customer) { c.CreditRating = chars(MaxCreditRatingLen + 1) }),
		customerBound("CompanyStatus", "input.companyStatus", func(c *Customer) { c.CompanyStatus = CompanyBankrupt },
			func(c *Customer) { c.CompanyStatus = "SLEEPING" }),
		customerBound("TagCount", "input.tags", func(c *Customer) { c.Tags = tagList(MaxTags) },
			func(c *Customer) { c.Tags = tagList(MaxTags + 1) }),
		customerBound("TagMin", "input.tags[0]", func(c *Customer) { c.Tags = []string{"x"} }, func(c *Customer) { c.Tags = []string{" "} }),
		customerBound("TagMax", "input.tags[0]", func(c *Customer) { c.Tags = []string{chars(40)} },
			func(c *Customer) { c.Tags = []string{chars(41)} }),
		customerBound("AttributeCount", "input.attributes",
			func(c *Customer) {
				c.Attributes = make([]Attribute, MaxAttributes)
				for i := range c.Attributes {
					c.Attributes[i].Key = fmt.Sprint(i)
				}
			},
			func(c *Customer) {
				c.Attributes = make([]Attribute, MaxAttributes+1)
				for i := range c.Attributes {
					c.Attributes[i].Key = fmt.Sprint(i)
				}
			}),
		customerBound("AttributeKeyMin", "input.attributes[0].key", func(c *Customer) { c.Attributes = []Attribute{{Key: chars(1)}} },
			func(c *Customer) { c.Attributes = []Attribute{{Key: ""}} }),
		customerBound("AttributeKeyMax", "input.attributes[0].key", func(c *Customer) { c.Attributes = []Attribute{{Key: chars(MaxAttrKeyLen)}} },
			func(c *Customer) { c.Attributes = []Attribute{{Key: chars(MaxAttrKeyLen + 1)}} }),
		customerBound("AttributeValue", "input.attributes[0].value",
			func(c *Customer) { c.Attributes = []Attribute{{Key: "k", Value: chars(MaxAttrValueLen)}} },
			func(c *Customer) { c.Attributes = []Attribute{{Key: "k", Value: chars(MaxAttrValueLen + 1)}} }),
		customerBound("OwnerID", "input.ownerId", func(c *Customer) { c.OwnerID = chars(MaxShortText) },
			func(c *Customer) { c.OwnerID = chars(MaxShortText + 1) }),
		customerBound("Team", "input.team", func(c *Customer) { c.Team = chars(MaxShortText) },
			func(c *Customer) { c.Team = chars(MaxShortText + 1) }),

		// Contacts.
		contactBound("ContactNameMin", "input.name", func(c *Contact) { c.Name = chars(1) }, func(c *Contact) { c.Name = "" }),
		contactBound("ContactNameMax", "input.name", func(c *Contact) { c.Name = chars(MaxNameLen) },
			func(c *Contact) { c.Name = chars(MaxNameLen + 1) }),
		contactBound("ContactTitle", "input.title", func(c *Contact) { c.Title = chars(MaxShortText) },
			func(c *Contact) { c.Title = chars(MaxShortText + 1) }),
		contactBound("ContactPhones", "input.phones", func(c *Contact) { c.Phones = phones(MaxPhones) },
			func(c *Contact) { c.Phones = phones(MaxPhones + 1) }),
		contactBound("ContactEmails", "input.emails", func(c *Contact) { c.Emails = emails(MaxEmails) },
			func(c *Contact) { c.Emails = emails(MaxEmails + 1) }),

		// Interactions.
		interactionBound("Subject", "input.subject", func(i *Interaction) { i.Subject = chars(MaxSubjectLen) },
			func(i *Interaction) { i.Subject = chars(MaxSubjectLen + 1) }),
		interactionBound("Content", "input.content", func(i *Interaction) { i.Content = chars(MaxContentLen) },
			func(i *Interaction) { i.Content = chars(MaxContentLen + 1) }),
		interactionBound("Outcome", "input.outcome", func(i *Interaction) { i.Outcome = chars(MaxOutcomeLen) },
			func(i *Interaction) { i.Outcome = chars(MaxOutcomeLen + 1) }),
		interactionBound("HandledBy", "input.handledBy", func(i *Interaction) { i.HandledBy = chars(MaxShortText) },
			func(i *Interaction) { i.HandledBy = chars(MaxShortText + 1) }),
		interactionBound("DurationMin", "input.durationSeconds", func(i *Interaction) { i.DurationSeconds = ptr(0) },
			func(i *Interaction) { i.DurationSeconds = ptr(-1) }),
		interactionBound("DurationMax", "input.durationSeconds", func(i *Interaction) { i.DurationSeconds = ptr(MaxDurationSecs) },
			func(i *Interaction) { i.DurationSeconds = ptr(MaxDurationSecs + 1) }),
		interactionBound("AttachmentCount", "input.attachments",
			func(i *Interaction) {
				i.Attachments = list(MaxAttachments, func(int) string { return "https://files.example.cn/a" })
			},
			func(i *Interaction) {
				i.Attachments = list(MaxAttachments+1, func(int) string { return "https://files.example.cn/a" })
			}),
		interactionBound("AttachmentURL", "input.attachments[0]",
			func(i *Interaction) { i.Attachments = []string{"https://x.cn/" + strings.Repeat("a", MaxURLLen-13)} },
			func(i *Interaction) { i.Attachments = []string{"https://x.cn/" + strings.Repeat("a", MaxURLLen-12)} }),
		interactionBound("AmountMin", "input.amount", transaction(0), transaction(-0.01)),
		interactionBound("AmountNegative", "input.amount", transaction(1), transaction(-1000)),
		interactionBound("AmountMax", "input.amount", transaction(MaxMoney), transaction(justAbove(MaxMoney))),
		interactionBound("CurrencyShort", "input.currency", transaction(1),
			func(i *Interaction) { transaction(1)(i); i.Currency = "CN" }),
		interactionBound("CurrencyLong", "input.currency", transaction(1),
			func(i *Interaction) { transaction(1)(i); i.Currency = "CNYX" }),

		// Evaluation templates.
		templateBound("TemplateNameMin", "input.name", func(t *TemplateInput) { t.Name = chars(1) }, func(t *TemplateInput) { t.Name = " " }),
		templateBound("TemplateNameMax", "input.name", func(t *TemplateInput) { t.Name = chars(MaxNameLen) },
			func(t *TemplateInput) { t.Name = chars(MaxNameLen + 1) }),
		templateBound("TemplateDescription", "input.description", func(t *TemplateInput) { t.Description = chars(MaxContentLen) },
			func(t *TemplateInput) { t.Description = chars(MaxContentLen + 1) }),
		templateBound("IndicatorsMin", "input.indicators", func(t *TemplateInput) { t.Indicators = indicators(1) },
			func(t *TemplateInput) { t.Indicators = nil }),
		templateBound("IndicatorsMax", "input.indicators", func(t *TemplateInput) { t.Indicators = indicators(MaxIndicators) },
			func(t *TemplateInput) { t.Indicators = indicators(MaxIndicators + 1) }),
		templateBound("IndicatorKeyMax", "input.indicators[0].key", func(t *TemplateInput) { t.Indicators[0].Key = strings.Repeat("k", 40) },
			func(t *TemplateInput) { t.Indicators[0].Key = strings.Repeat("k", 41) }),
		templateBound("IndicatorKeyMin", "input.indicators[0].key", func(t *TemplateInput) { t.Indicators[0].Key = "k" },
			func(t *TemplateInput) { t.Indicators[0].Key = "" }),
		templateBound("IndicatorWeightMax", "input.indicators[0].weight", func(t *TemplateInput) { t.Indicators[0].Weight = 1 },
			func(t *TemplateInput) { t.Indicators[0].Weight = justAbove(1) }),
		templateBound("IndicatorWeightMin", "input.indicators[0].weight",
			func(t *TemplateInput) {
				t.Indicators = indicators(2)
				t.Indicators[0].Weight, t.Indicators[1].Weight = 0.001, 0.999
			},
			func(t *TemplateInput) {
				t.Indicators = indicators(2)
				t.Indicators[0].Weight, t.Indicators[1].Weight = 0, 1
			}),
		templateBound("ScaleMin", "input.indicators[0].scaleMin", func(t *TemplateInput) { t.Indicators[0].ScaleMin = -1e6 },
			func(t *TemplateInput) { t.Indicators[0].ScaleMin = justBelow(-1e6) }),
		templateBound("ScaleMax", "input.indicators[0].scaleMax", func(t *TemplateInput) { t.Indicators[0].ScaleMax = 1e6 },
			func(t *TemplateInput) { t.Indicators[0].ScaleMax = justAbove(1e6) }),
		templateBound("ScaleNotEmpty", "input.indicators[0].scaleMax", func(t *TemplateInput) { t.Indicators[0].ScaleMax = justAbove(1) },
			func(t *TemplateInput) { t.Indicators[0].ScaleMax = 1 }),

		// The grading policy.
		policyBound("RankMin", "input.levels[0].rank", func(in *GradingPolicyInput) { in.Levels[0].Rank = 1 },
			func(in *GradingPolicyInput) { in.Levels[0].Rank = 0 }),
		policyBound("RankMax", "input.levels[0].rank", func(in *GradingPolicyInput) { in.Levels[0].Rank = 99 },
			func(in *GradingPolicyInput) { in.Levels[0].Rank = 100 }),
		policyBound("SLAMin", "input.levels[0].responseSlaHours", func(in *GradingPolicyInput) { in.Levels[0].ResponseSLA = time.Hour },
			func(in *GradingPolicyInput) { in.Levels[0].ResponseSLA = time.Hour - time.Minute }),
		policyBound("SLAMax", "input.levels[0].responseSlaHours", func(in *GradingPolicyInput) {
			in.Levels[0].ResponseSLA, in.Levels[0].ResolutionSLA = 8760*time.Hour, 8760*time.Hour
		}, func(in *GradingPolicyInput) { in.Levels[0].ResponseSLA = 8761 * time.Hour }),
		policyBound("ResolutionNotBeforeResponse", "input.levels[0].resolutionSlaHours", func(in *GradingPolicyInput) {
			in.Levels[0].ResolutionSLA = in.Levels[0].ResponseSLA
		}, func(in *GradingPolicyInput) { in.Levels[0].ResolutionSLA = in.Levels[0].ResponseSLA - time.Minute }),
		policyBound("ResolutionMax", "input.levels[0].resolutionSlaHours", func(in *GradingPolicyInput) { in.Levels[0].ResolutionSLA = 8760 * time.Hour },
			func(in *GradingPolicyInput) { in.Levels[0].ResolutionSLA = 8761 * time.Hour }),
		policyBound("TakeBackMax", "input.levels[2].takeBackWithoutContactDays", func(in *GradingPolicyInput) { in.Levels[2].TakeBackWithoutContact = 3650 * day },
			func(in *GradingPolicyInput) { in.Levels[2].TakeBackWithoutContact = 3651 * day }),
		policyBound("TakeBackMin", "input.levels[2].takeBackWithoutDealDays", func(in *GradingPolicyInput) { in.Levels[2].TakeBackWithoutDeal = 0 },
			func(in *GradingPolicyInput) { in.Levels[2].TakeBackWithoutDeal = -day }),
		policyBound("FollowUpMin", "input.levels[0].followUpIntervalDays", func(in *GradingPolicyInput) { in.Levels[0].FollowUpInterval = 0 },
			func(in *GradingPolicyInput) { in.Levels[0].FollowUpInterval = -day }),
		policyBound("FollowUpMax", "input.levels[0].followUpIntervalDays",
			func(in *GradingPolicyInput) { in.Levels[0].FollowUpInterval = 3650 * day },
			func(in *GradingPolicyInput) { in.Levels[0].FollowUpInterval = 3651 * day }),
		policyBound("LevelLabelMin", "input.levels[0].label", func(in *GradingPolicyInput) { in.Levels[0].Label = chars(1) },
			func(in *GradingPolicyInput) { in.Levels[0].Label = "" }),
		policyBound("LevelLabelMax", "input.levels[0].label", func(in *GradingPolicyInput) { in.Levels[0].Label = chars(MaxShortText) },
			func(in *GradingPolicyInput) { in.Levels[0].Label = chars(MaxShortText + 1) }),
		policyBound("LevelDescription", "input.levels[0].description",
			func(in *GradingPolicyInput) { in.Levels[0].Description = chars(MaxReasonLen) },
			func(in *GradingPolicyInput) { in.Levels[0].Description = chars(MaxReasonLen + 1) }),
		policyBound("RulesMin", "input.rules", func(in *GradingPolicyInput) { in.Rules = rules(1) },
			func(in *GradingPolicyInput) { in.Rules = nil }),
		policyBound("RulesMax", "input.rules", func(in *GradingPolicyInput) { in.Rules = rules(MaxGradeRules) },
			func(in *GradingPolicyInput) { in.Rules = rules(MaxGradeRules + 1) }),
		policyBound("RuleNameMax", "input.rules[0].name", func(in *GradingPolicyInput) { in.Rules[0].Name = strings.Repeat("r", 40) },
			func(in *GradingPolicyInput) { in.Rules[0].Name = strings.Repeat("r", 41) }),
		policyBound("Conditions", "input.rules[0].conditions", func(in *GradingPolicyInput) { in.Rules[0].Conditions = conditions(MaxRuleConditions) },
			func(in *GradingPolicyInput) { in.Rules[0].Conditions = conditions(MaxRuleConditions + 1) }),
		policyBound("ConditionValueMin", "input.rules[0].conditions[0].value",
			func(in *GradingPolicyInput) { in.Rules[0].Conditions[0].Value = -MaxMoney },
			func(in *GradingPolicyInput) { in.Rules[0].Conditions[0].Value = justBelow(-MaxMoney) }),
		policyBound("ConditionValueMax", "input.rules[0].conditions[0].value",
			func(in *GradingPolicyInput) { in.Rules[0].Conditions[0].Value = MaxMoney },
			func(in *GradingPolicyInput) { in.Rules[0].Conditions[0].Value = justAbove(MaxMoney) }),
		policyBound("WeightMin", "input.valueFormula.assetWeight", func(in *GradingPolicyInput) { in.Value.AssetWeight = 0 },
			func(in *GradingPolicyInput) { in.Value.AssetWeight = -0.01 }),
		policyBound("WeightMax", "input.valueFormula.assetWeight", func(in *GradingPolicyInput) { in.Value.AssetWeight = 1000 },
			func(in *GradingPolicyInput) { in.Value.AssetWeight = 1000.01 }),
		policyBound("HorizonMin", "input.valueFormula.recencyHorizonDays", func(in *GradingPolicyInput) { in.Value.RecencyHorizonDays = 1 },
			func(in *GradingPolicyInput) { in.Value.RecencyHorizonDays = 0 }),
		policyBound("HorizonMax", "input.valueFormula.recencyHorizonDays", func(in *GradingPolicyInput) { in.Value.RecencyHorizonDays = 3650 },
			func(in *GradingPolicyInput) { in.Value.RecencyHorizonDays = 3651 }),
		policyBound("ReferenceMin", "input.valueFormula.assetReference", func(in *GradingPolicyInput) { in.Value.AssetReference = 1 },
			func(in *GradingPolicyInput) { in.Value.AssetReference = 0.99 }),
		policyBound("ReferenceMax", "input.valueFormula.assetReference", func(in *GradingPolicyInput) { in.Value.AssetReference = MaxMoney },
			func(in *GradingPolicyInput) { in.Value.AssetReference = justAbove(MaxMoney) }),
		policyBound("TierMin", "input.tiers.keyPercent", func(in *GradingPolicyInput) { in.Tiers.KeyPercent = 0 },
			func(in *GradingPolicyInput) { in.Tiers.KeyPercent = -0.01 }),
		policyBound("TiersSum", "input.tiers", func(in *GradingPolicyInput) {
			in.Tiers = TierCutoffs{KeyPercent: 10, MajorPercent: 40, OrdinaryPercent: 50}
		},
			func(in *GradingPolicyInput) {
				in.Tiers = TierCutoffs{KeyPercent: 10, MajorPercent: 40, OrdinaryPercent: 50.01}
			}),
		policyBound("ManualHoldMin", "input.manualHoldDays", func(in *GradingPolicyInput) { in.ManualHoldDays = 0 },
			func(in *GradingPolicyInput) { in.ManualHoldDays = -1 }),
		policyBound("ManualHoldMax", "input.manualHoldDays", func(in *GradingPolicyInput) { in.ManualHoldDays = 3650 },
			func(in *GradingPolicyInput) { in.ManualHoldDays = 3651 }),
		policyBound("StrongIndustriesCount", "input.strongIndustries",
			func(in *GradingPolicyInput) {
				in.StrongIndustries = list(MaxStrongIndustries, func(i int) string { return fmt.Sprint("i", i) })
			},
			func(in *GradingPolicyInput) {
				in.StrongIndustries = list(MaxStrongIndustries+1, func(i int) string { return fmt.Sprint("i", i) })
			}),
		policyBound("StrongIndustryLength", "input.strongIndustries[0]",
			func(in *GradingPolicyInput) { in.StrongIndustries = []string{chars(MaxShortText)} },
			func(in *GradingPolicyInput) { in.StrongIndustries = []string{chars(MaxShortText + 1)} }),

		// A customer's first stage, and tag changes.
		{"StageReason", "input.stageReason",
			func() error { return checkInitialStage(StageLost, chars(MaxReasonLen), false) },
			func() error { return checkInitialStage(StageLost, chars(MaxReasonLen+1), false) }},
		{"TagsToAdd", "input.add",
			func() error { return checkTagChange(tagList(MaxTags), nil) },
			func() error { return checkTagChange(tagList(MaxTags+1), nil) }},
		{"TagsToRemove", "input.remove",
			func() error { return checkTagChange(nil, tagList(MaxTags)) },
			func() error { return checkTagChange(nil, tagList(MaxTags+1)) }},
	}
	for _, b := range bounds {
		t.Run(b.name, func(t *testing.T) {
			if err := b.at(); err != nil {
				t.Errorf("at the limit: %v, want accepted", err)
			}
			e, ok := b.past().(*Error)
			if !ok || e.Code != EINVALID || e.Field != b.field {
				t.Errorf("past the limit: %v, want BAD_USER_INPUT on %s", e, b.field)
			}
		})
	}
}
