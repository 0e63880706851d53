package resolvers

import (
	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/graph/model"
)

func fromImportInput(in model.ImportCustomersInput) crm.ImportInput {
	return crm.ImportInput{
		ImportID: in.ImportID, FileName: val(in.FileName), Duplicates: crm.DuplicatePolicy(val(in.Duplicates)),
		DryRun: val(in.DryRun),
		Rows: mapAll(in.Rows, func(r *model.ImportCustomerRowInput) crm.ImportRow {
			return crm.ImportRow{
				Row: r.Row, Kind: val(r.Kind), Name: val(r.Name), Phones: r.Phones, Emails: r.Emails,
				Addresses: fromAddresses(r.Addresses), Industry: val(r.Industry), Region: val(r.Region),
				Source: val(r.Source), AnnualRevenue: val(r.AnnualRevenue), CreditRating: val(r.CreditRating),
				CompanyStatus: val(r.CompanyStatus), Stage: val(r.Stage), StageReason: val(r.StageReason),
				OwnerID: val(r.OwnerID), Team: val(r.Team), Grade: val(r.Grade), Tags: r.Tags,
				Attributes: fromAttributes(r.Attributes),
				Contacts: mapAll(r.Contacts, func(c *model.ImportContactInput) crm.ImportContact {
					return crm.ImportContact{Name: val(c.Name), Title: val(c.Title), Role: val(c.Role), Phones: c.Phones, Emails: c.Emails}
				}),
			}
		}),
	}
}

func toImportResult(r *crm.ImportResult) *model.ImportCustomersResult {
	return &model.ImportCustomersResult{ImportID: r.ImportID, DryRun: r.DryRun, Throttled: r.Throttled,
		Rows: mapAll(r.Rows, func(row crm.ImportRowResult) *model.ImportRowResult {
			return &model.ImportRowResult{Row: row.Row, Status: model.ImportRowStatus(row.Status),
				CustomerID: opt(row.CustomerID), ExistingID: opt(row.ExistingID), DuplicateOn: opt(row.DuplicateOn),
				Filled: nonNil(row.Filled),
				Problems: mapAll(row.Problems, func(p *crm.Error) *model.ImportProblem {
					return &model.ImportProblem{Code: p.Code, Field: opt(p.Field), Message: p.Message, ExistingID: opt(p.ExistingID)}
				})}
		})}
}
