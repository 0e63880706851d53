package server_test

import (
	"slices"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/crm"
)

func init() {
	users["service"] = &crm.User{ID: "service", Roles: []crm.Role{crm.RoleService}, Teams: []string{"north"}}
	users["partner"] = &crm.User{ID: "partner", Roles: []crm.Role{crm.RolePartner}, PartnerOrgID: "org-1"}
}

const activityQuery = `query($p: PeriodInput!, $s: AnalyticsScopeInput) { analytics { activity(period: $p, scope: $s) {
	granularity buckets { period start }
	total {
		customers { gained wonBack lost }
		interactions { total byChannel { channel count } byOwner { ownerId count } }
		cases { opened resolved slaBreaches escalated averageResolutionHours }
		evaluations { count averageOverall nps byGrade { grade figures { count } } }
	} } } }`

type activityResult struct {
	Analytics struct {
		Activity struct {
			Granularity string
			Buckets     []struct{ Period string }
			Total       struct {
				Customers    *struct{ Gained int }
				Interactions *struct {
					Total   int
					ByOwner []struct {
						OwnerID *string
						Count   int
					}
				}
				Cases       *struct{ Opened int }
				Evaluations *struct{ Count int }
			}
		}
	}
}

// Analytics are authorized by an allowlist of roles: SALES read their own
// figures only, MANAGER their teams, SERVICE the case figures of their
// team, and a role the list does not name (a partner) nothing.
func TestAnalyticsAuthorizationThroughGraphQL(t *testing.T) {
	e := mustEnv(t)
	owned := func(owner, team string) string {
		id := e.mustCreate(t, "admin", map[string]any{"kind": "ORGANIZATION", "name": "Customer of " + owner, "ownerId": owner, "team": team})
		e.mustLog(t, id, "hello")
		return id
	}
	owned("sales1", "north")
	owned("sales2", "north")
	owned("sales-s", "south")
	e.mustDo(t, "admin", `mutation($in: LogInteractionInput!) { logInteraction(input: $in) { id } }`, map[string]any{"in": map[string]any{
		"customerId": owned("sales1", "north"), "channel": "CALL_CENTER", "type": "COMPLAINT", "subject": "late delivery"}}, nil)
	e.drain(t) // the figures follow from the stream

	now := time.Now().UTC()
	month := map[string]any{"from": now.Format(time.RFC3339), "to": now.Format(time.RFC3339), "granularity": "MONTH"}
	scope := func(kv ...string) map[string]any {
		m := map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name         string
		user         string
		scope        map[string]any
		code, field  string
		interactions int      // -1: the section is null
		owners       []string // byOwner, most first
		gained       int
	}{
		{"AdminSeesEverything", "admin", nil, "", "", 5, []string{"sales1", "sales-s", "sales2"}, 4},
		{"AuditorSeesATeam", "auditor", scope("team", "south"), "", "", 1, []string{"sales-s"}, 1},
		{"SalesSeeTheirOwnFigures", "sales1", nil, "", "", 3, nil, 2},
		{"SalesMayNotReadAColleague", "sales1", scope("ownerId", "sales2"), crm.EFORBIDDEN, "scope.ownerId", 0, nil, 0},
		{"ManagerSeesTheirTeam", "manager", nil, "", "", 4, []string{"sales1", "sales2"}, 3},
		{"ManagerSeesAnOwnerOfTheTeam", "manager", scope("ownerId", "sales2"), "", "", 1, nil, 1},
		{"ManagerMayNotReadAnotherTeam", "manager", scope("team", "south"), crm.EFORBIDDEN, "scope.team", 0, nil, 0},
		{"ServiceSeesOnlyCaseFigures", "service", nil, "", "", -1, nil, 0},
		{"AnUnlistedRoleIsForbidden", "partner", nil, crm.EFORBIDDEN, "", 0, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, tt.user, activityQuery, map[string]any{"p": month, "s": tt.scope})
			if r.code() != tt.code || r.field() != tt.field {
				t.Fatalf("code %q field %q, want %q %q: %+v", r.code(), r.field(), tt.code, tt.field, r.Errors)
			}
			if tt.code != "" {
				return
			}
			var out activityResult
			e.mustDo(t, tt.user, activityQuery, map[string]any{"p": month, "s": tt.scope}, &out)
			tot := out.Analytics.Activity.Total
			if tot.Cases == nil || len(out.Analytics.Activity.Buckets) != 1 {
				t.Fatalf("case figures and one bucket expected: %+v", out)
			}
			if tt.interactions < 0 {
				if tot.Customers != nil || tot.Interactions != nil || tot.Evaluations != nil || tot.Cases.Opened != 1 {
					t.Fatalf("service sees %+v; want the case figures only", tot)
				}
				return
			}
			var owners []string
			for _, o := range tot.Interactions.ByOwner {
				owners = append(owners, *o.OwnerID)
			}
			if tot.Interactions.Total != tt.interactions || tot.Customers.Gained != tt.gained || !slices.Equal(owners, tt.owners) {
				t.Fatalf("interactions %d by owner %v, gained %d; want %d %v %d",
					tot.Interactions.Total, owners, tot.Customers.Gained, tt.interactions, tt.owners, tt.gained)
			}
		})
	}

	// Days are one Query per team; months two: the rolled-up months and
	// the days of the months not rolled up yet (this one).
	t.Run("APeriodOfOneTeamIsOneQueryPerKindOfBucket", func(t *testing.T) {
		days := map[string]any{"from": now.Format(time.RFC3339), "to": now.Format(time.RFC3339), "granularity": "DAY"}
		for _, c := range []struct {
			period map[string]any
			want   []string
		}{{days, []string{"Query"}}, {month, []string{"Query", "Query"}}} {
			e.resetOps()
			e.mustDo(t, "manager", activityQuery, map[string]any{"p": c.period, "s": scope("team", "north")}, nil)
			if ops := e.takeOps(); !slices.Equal(ops, c.want) {
				t.Fatalf("%s: DynamoDB calls %v, want %v", c.period["granularity"], ops, c.want)
			}
		}
	})
	t.Run("ALongerPeriodThanAllowedIsBadInput", func(t *testing.T) {
		years := map[string]any{"from": "2020-01-01T00:00:00Z", "to": "2024-01-01T00:00:00Z", "granularity": "MONTH"}
		if r := e.do(t, "admin", activityQuery, map[string]any{"p": years}); r.code() != crm.EINVALID || r.field() != "period" {
			t.Fatalf("code %q field %q", r.code(), r.field())
		}
	})
	t.Run("Lists", func(t *testing.T) {
		const q = `query($s: AnalyticsScopeInput) { analytics {
			customersAtRisk(reason: NO_CONTACT, quietDays: 1, scope: $s) { edges { node { id } } }
			followUpsDue(scope: $s) { edges { node { id } } } } }`
		for _, c := range []struct {
			user  string
			scope map[string]any
			code  string
		}{
			{"sales1", nil, ""},
			{"sales1", scope("ownerId", "sales2"), crm.EFORBIDDEN},
			{"manager", scope("team", "south"), crm.EFORBIDDEN},
			{"service", nil, crm.EFORBIDDEN},
			{"partner", nil, crm.EFORBIDDEN},
		} {
			if r := e.do(t, c.user, q, map[string]any{"s": c.scope}); r.code() != c.code {
				t.Fatalf("%s %v: code %q, want %q", c.user, c.scope, r.code(), c.code)
			}
		}
	})
	t.Run("GradeDistribution", func(t *testing.T) {
		const q = `{ analytics { gradeDistribution { total unranked grades { grade count } tiers { tier count } } } }`
		var out struct {
			Analytics struct {
				GradeDistribution struct {
					Total, Unranked int
					Grades          []struct {
						Grade string
						Count int
					}
				}
			}
		}
		e.mustDo(t, "manager", q, nil, &out)
		d := out.Analytics.GradeDistribution
		if d.Total != 3 || d.Unranked != 3 || len(d.Grades) == 0 || d.Grades[0].Grade != "A" {
			t.Fatalf("manager's distribution %+v: the three north customers expected", d)
		}
		if r := e.do(t, "sales1", q, nil); r.code() != crm.EFORBIDDEN {
			t.Fatalf("sales read the distribution: %q", r.code())
		}
	})
}
