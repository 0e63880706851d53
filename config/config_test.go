package config_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/config"
	"github.com/rapportcrm/rapport/crm"
)

func TestImportLimitsFromEnv(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want crm.ImportLimits
		err  string
	}{
		{"Defaults", nil, crm.DefaultImportLimits, ""},
		{"Set", map[string]string{"IMPORT_ROWS_PER_SECOND": "12.5", "IMPORT_CALLS": "4"}, crm.ImportLimits{RowsPerSecond: 12.5, Calls: 4}, ""},
		{"Unpaced", map[string]string{"IMPORT_ROWS_PER_SECOND": "0"}, crm.ImportLimits{Calls: crm.DefaultImportLimits.Calls}, ""},
		{"NegativeRate", map[string]string{"IMPORT_ROWS_PER_SECOND": "-1"}, crm.ImportLimits{}, "IMPORT_ROWS_PER_SECOND"},
		{"NoCalls", map[string]string{"IMPORT_CALLS": "0"}, crm.ImportLimits{}, "IMPORT_CALLS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			get := func(k string) string {
				if k == "TABLE_NAME" {
					return "t"
				}
				return tt.env[k]
			}
			c, err := config.FromEnv(get)
			switch {
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("got %v, want an error naming %s", err, tt.err)
			case tt.err == "" && (err != nil || c.Import != tt.want):
				t.Fatalf("got %+v %v, want %+v", c.Import, err, tt.want)
			}
		})
	}
}

func TestEventsFromEnv(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want config.Events
	}{
		{"Defaults", nil, config.Events{Source: "rapport"}},
		{"Stack", map[string]string{"EVENT_BUS_NAME": "rapport-prod", "EVENT_SOURCE": "rapport/prod"}, config.Events{Bus: "rapport-prod", Source: "rapport/prod"}},
		{"Local", map[string]string{"EVENTS_FILE": "/tmp/e.jsonl", "EVENTBRIDGE_ENDPOINT": "http://127.0.0.1:1"},
			config.Events{Source: "rapport", File: "/tmp/e.jsonl", Endpoint: "http://127.0.0.1:1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.FromEnv(func(k string) string {
				if k == "TABLE_NAME" {
					return "t"
				}
				return tt.env[k]
			})
			if err != nil || c.Events != tt.want {
				t.Fatalf("got %+v %v, want %+v", c.Events, err, tt.want)
			}
		})
	}
}

func TestPipelineStagesFromEnv(t *testing.T) {
	tests := []struct {
		name string
		env  string
		want []crm.PipelineStage
		err  string
	}{
		{"Default", "", crm.DefaultPipelinePolicy.Open, ""},
		{"Set", "LEAD:5, DEMO:30,CONTRACT:90", []crm.PipelineStage{{Code: "LEAD", Probability: 5}, {Code: "DEMO", Probability: 30}, {Code: "CONTRACT", Probability: 90}}, ""},
		{"ErrNoProbability", "LEAD,DEMO:30", nil, "PIPELINE_STAGES"},
		{"ErrProbabilityAbove100", "LEAD:101", nil, "stages[0].probability"},
		{"ErrClosingStageListed", "LEAD:5,WON:100", nil, "stages[1].code"},
		{"ErrTwice", "LEAD:5,LEAD:10", nil, "stages[1].code"},
		{"ErrLowerCase", "lead:5", nil, "stages[0].code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			get := func(k string) string {
				switch k {
				case "TABLE_NAME":
					return "t"
				case "PIPELINE_STAGES":
					return tt.env
				}
				return ""
			}
			c, err := config.FromEnv(get)
			switch {
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("got %v, want an error naming %s", err, tt.err)
			case tt.err == "" && (err != nil || !slices.Equal(c.Pipeline.Open, tt.want)):
				t.Fatalf("got %+v %v, want %+v", c.Pipeline.Open, err, tt.want)
			}
		})
	}
}

func TestCreditLevelsFromEnv(t *testing.T) {
	for _, tt := range []struct {
		name, env string
		want      []string // the codes
		err       string
	}{
		{"Default", "", []string{"AAA", "AA", "A", "BBB", "BB", "B", "C"}, ""},
		{"Set", "A:90:2000000:15:0:1, B:30:100000, C:PREPAY:0", []string{"A", "B", "C"}, ""},
		{"ErrOneLevel", "A:90:1000", nil, "CREDIT_LEVELS"},
		{"ErrTermsNotDays", "A:net30:1000,C:PREPAY:0", nil, "levels[0]"},
		{"ErrLimitNotDecimal", "A:30:1e6,C:PREPAY:0", nil, "levels[0]"},
		{"ErrTwice", "A:30:1000,A:10:10", nil, "levels[1]"},
		{"ErrLastLevelHasConditions", "A:30:1000,C:PREPAY:0:10:-:0", nil, "the last level"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.FromEnv(func(k string) string {
				switch k {
				case "TABLE_NAME":
					return "t"
				case "CREDIT_LEVELS":
					return tt.env
				}
				return ""
			})
			var codes []string
			for _, l := range c.Credit.Levels {
				codes = append(codes, l.Code)
			}
			switch {
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("got %v, want an error naming %s", err, tt.err)
			case tt.err == "" && (err != nil || !slices.Equal(codes, tt.want)):
				t.Fatalf("got %v %v, want %v", codes, err, tt.want)
			}
		})
	}
}

func TestLeadTeamsFromEnv(t *testing.T) {
	for _, tt := range []struct {
		name, env string
		want      []string
		wantErr   bool
	}{
		{"DefaultNone", "", nil, false},
		{"Set", "newbiz-north, newbiz-south", []string{"newbiz-north", "newbiz-south"}, false},
		{"ErrEmptyTeam", "newbiz,", nil, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.FromEnv(func(k string) string {
				switch k {
				case "TABLE_NAME":
					return "t"
				case "LEAD_TEAMS":
					return tt.env
				}
				return ""
			})
			switch {
			case tt.wantErr && (err == nil || !strings.Contains(err.Error(), "LEAD_TEAMS")):
				t.Fatalf("got %v, want an error naming LEAD_TEAMS", err)
			case !tt.wantErr && (err != nil || !slices.Equal(c.Leads.Teams, tt.want)):
				t.Fatalf("got %v %v, want %v", c.Leads.Teams, err, tt.want)
			}
		})
	}
}

func TestAccountTeamsFromEnv(t *testing.T) {
	for _, tt := range []struct {
		name, env string
		want      crm.AccountPolicy
		wantErr   bool
	}{
		{"DefaultNone", "", crm.AccountPolicy{}, false},
		{"PairsAndDefault", "newbiz-north:accounts-north, newbiz-south : accounts-south,accounts",
			crm.AccountPolicy{Teams: map[string]string{"newbiz-north": "accounts-north", "newbiz-south": "accounts-south"}, Default: "accounts"}, false},
		{"OneDefault", "accounts", crm.AccountPolicy{Default: "accounts"}, false},
		{"ErrTwoDefaults", "accounts,others", crm.AccountPolicy{}, true},
		{"ErrTeamMappedTwice", "newbiz:a,newbiz:b", crm.AccountPolicy{}, true},
		{"ErrEmptyAccountTeam", "newbiz:", crm.AccountPolicy{}, true},
		{"ErrEmptyEntry", "accounts,", crm.AccountPolicy{}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.FromEnv(func(k string) string {
				switch k {
				case "TABLE_NAME":
					return "t"
				case "ACCOUNT_TEAMS":
					return tt.env
				}
				return ""
			})
			switch {
			case tt.wantErr && (err == nil || !strings.Contains(err.Error(), "ACCOUNT_TEAMS")):
				t.Fatalf("got %v, want an error naming ACCOUNT_TEAMS", err)
			case !tt.wantErr && (err != nil || !maps.Equal(c.Accounts.Teams, tt.want.Teams) || c.Accounts.Default != tt.want.Default):
				t.Fatalf("got %+v %v, want %+v", c.Accounts, err, tt.want)
			}
		})
	}
}
