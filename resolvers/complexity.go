package resolvers

import (
	"time"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/graph/generated"
	"github.com/rapportcrm/rapport/graph/model"
)

// Complexity prices fields by what they cost on DynamoDB, for the server's
// complexity limit. gqlgen counts every field as 1 by default, which prices
// a page of 100 customers like a page of one and a field that reads once
// per parent (a customer's contacts in a list) like a scalar. Here a page
// costs its size times its items, and a per-parent read costs perParentRead
// on top, so a query that would fan out into a DynamoDB call per listed
// customer hits the limit long before it hurts.
func Complexity() generated.ComplexityRoot {
	var c generated.ComplexityRoot
	c.Query.Customers = func(child int, _ *model.CustomerFilter, _ *model.CustomerOrder, first *int, _ *string) int {
		return pageCost(child, first)
	}
	c.Query.Interactions = func(child int, _ string, _, _ *time.Time, first *int, _ *string) int {
		return pageCost(child, first)
	}
	c.Query.Templates = func(child int, first *int, _ *string) int { return pageCost(child, first) }
	c.Query.AuditLog = func(child int, _ *model.AuditFilter, first *int, _ *string) int { return pageCost(child, first) }
	c.Query.DuplicateCandidates = func(child int, _ string, _ *string, first *int) int { return pageCost(child, first) }
	// An import's result has a row per row sent (at most crm.MaxImportRows).
	c.Mutation.ImportCustomers = func(child int, in model.ImportCustomersInput) int {
		return 1 + max(len(in.Rows), 1)*child
	}
	c.Analytics.CustomersAtRisk = func(child int, _ model.RiskReason, _ *model.AnalyticsScopeInput, _ *int, _ *float64, first *int, _ *string) int {
		return pageCost(child, first)
	}
	c.Analytics.FollowUpsDue = func(child int, _ *model.AnalyticsScopeInput, _ *time.Time, first *int, _ *string) int {
		return pageCost(child, first)
	}

	// A customer has few contacts (at most crm.MaxContacts); the read is
	// what counts.
	c.Customer.Contacts = func(child int) int { return perParentRead + child }
	c.Customer.Interactions = func(child int, _, _ *time.Time, first *int, _ *string) int {
		return perParentRead + pageCost(child, first)
	}
	c.Customer.GradeHistory = func(child int, first *int, _ *string) int { return perParentRead + pageCost(child, first) }
	c.Customer.StageHistory = func(child int, first *int, _ *string) int { return perParentRead + pageCost(child, first) }
	c.Customer.Cases = func(child int, first *int, _ *string) int { return perParentRead + pageCost(child, first) }
	c.Customer.Tasks = func(child int, first *int, _ *string) int { return perParentRead + pageCost(child, first) }
	// An agenda holds at most crm.AgendaDatedRead + crm.AgendaFollowUpRead
	// entries.
	c.Query.Agenda = func(child int, _ *time.Time, _ *string) int {
		return 1 + (crm.AgendaDatedRead+crm.AgendaFollowUpRead)*child
	}
	c.Query.TaskQueue = func(child int, _ *string, _ *time.Time, first *int, _ *string) int { return pageCost(child, first) }
	c.Query.CaseQueue = func(child int, _, _ *string, _ *bool, _ *model.CaseStatus, _ *bool, first *int, _ *string) int {
		return pageCost(child, first)
	}
	c.Customer.Evaluations = func(child int, first *int, _ *string) int { return perParentRead + pageCost(child, first) }
	c.Customer.GradeAt = func(child int, _ time.Time) int { return perParentRead + child }
	c.Customer.Merges = func(child int, first *int, _ *string) int { return perParentRead + pageCost(child, first) }
	c.Customer.Opportunities = func(child int, first *int, _ *string) int { return perParentRead + pageCost(child, first) }
	c.Customer.Contracts = func(child int, first *int, _ *string) int { return perParentRead + pageCost(child, first) }
	// A list's credit levels are one BatchGetItem, but a customer marked for
	// review and never evaluated (or any customer without a credit item,
	// before migration 2026-12-credit-items is done) costs a Query of its
	// contracts: priced for that worst case, so a list of them counts it.
	c.Customer.Credit = func(child int) int { return 2*perParentRead + child }
	c.Customer.CreditHistory = func(child int, first *int, _ *string) int { return 2*perParentRead + pageCost(child, first) }
	c.Query.OpenOpportunities = func(child int, _ *string, first *int, _ *string) int { return pageCost(child, first) }
	c.Customer.Leads = func(child int, first *int, _ *string) int { return perParentRead + pageCost(child, first) }
	c.Lead.Opportunity = func(child int) int { return 2*perParentRead + child }
	c.Opportunity.Lead = func(child int) int { return perParentRead + child }
	c.Query.PartnerOrganizations = func(child int, first *int, _ *string) int { return pageCost(child, first) }
	c.PartnerOrganization.APIKeys = func(child int, first *int, _ *string) int { return perParentRead + pageCost(child, first) }
	c.Query.Users = func(child int, _ *model.UserFilter, first *int, _ *string) int { return pageCost(child, first) }
	// Every department, at most crm.MaxDepartments, from one Query.
	c.Query.Departments = func(child int) int { return 1 + crm.MaxDepartments*child }
	// The change feed's page is 100 when no size is given.
	c.Query.Changes = func(child int, _ *string, first *int) int {
		if first == nil {
			return 1 + crm.MaxPageSize*child
		}
		return pageCost(child, first)
	}
	return c
}

// perParentRead is the price of a field that makes its own DynamoDB call
// for every parent object (batched fields such as latestInteraction do not).
const perParentRead = 50

// pageCost prices a list of up to first items. Sizes outside the allowed
// range are priced at the bound: the service rejects them anyway.
func pageCost(child int, first *int) int {
	n := crm.DefaultPageSize
	if first != nil {
		n = min(max(*first, 1), crm.MaxPageSize)
	}
	return 1 + n*child
}
