// Package config reads Rapport's settings from the environment, once, in
// main. Every binary uses the same names; README.md has the table.
package config

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/crm"
)

// Config is every setting of a Rapport binary.
type Config struct {
	// TableName is the DynamoDB table (TABLE_NAME).
	TableName string
	// DynamoEndpoint overrides the DynamoDB endpoint, for DynamoDB Local
	// (DYNAMODB_ENDPOINT).
	DynamoEndpoint string
	// CursorSecret keys pagination cursors (CURSOR_SECRET, base64, ≥ 32
	// bytes). In the stack it is not in the environment: CursorSecretARN
	// names the Secrets Manager secret holding it, read by CursorSecretFrom.
	CursorSecret []byte
	// CursorSecretARN is the secret holding the cursor key (CURSOR_SECRET_ARN).
	CursorSecretARN string
	// MetricsNamespace is where the API's and the job's embedded metric
	// format lines go (METRICS_NAMESPACE); empty writes none.
	MetricsNamespace string

	OIDCIssuer   string // OIDC_ISSUER
	OIDCAudience string // OIDC_AUDIENCE
	OIDCJWKSURL  string // OIDC_JWKS_URL (default: discovered from the issuer)
	RolesClaim   string // ROLES_CLAIM
	TeamsClaim   string // TEAMS_CLAIM

	LogLevel slog.Level // LOG_LEVEL: debug, info, warn, error
	Port     int        // PORT, local server only
	// GraphiQL serves the GraphiQL page at / (GRAPHIQL), local server only:
	// the Lambda API does not link GraphiQL.
	GraphiQL bool
	// Introspection allows schema introspection (INTROSPECTION).
	Introspection bool
	// RequestTimeout bounds one GraphQL request (REQUEST_TIMEOUT).
	RequestTimeout time.Duration
	// ClaimPeriod is how long a pool claim lasts for grades without a period
	// of their own (CLAIM_PERIOD_DAYS).
	ClaimPeriod time.Duration
	// ClaimWithinTeam keeps salespeople's claims to their own teams'
	// pools (CLAIM_WITHIN_TEAM).
	ClaimWithinTeam bool
	// ForbidOwnReview refuses any evaluation an owner submits of their own
	// customer, the conflict of interest rule (FORBID_OWN_REVIEW).
	ForbidOwnReview bool
	// SeparateApproval refuses the approval of a case's plan by the user
	// who proposed it (CASE_SEPARATE_APPROVAL; false for one-person teams).
	SeparateApproval bool
	// DeclineAfter is how long without contact suggests decline
	// (DECLINE_AFTER_DAYS).
	DeclineAfter time.Duration
	// Pipeline is the sales pipeline's open stages with their
	// probabilities (PIPELINE_STAGES, e.g. "QUALIFY:10,PROPOSAL:50").
	Pipeline crm.PipelinePolicy
	// Leads names the teams that receive leads from telesales, the
	// new-customer teams (LEAD_TEAMS, comma-separated; default none: a
	// lead goes to a colleague of the customer's team).
	Leads crm.LeadPolicy
	// Credit is the credit policy's levels (CREDIT_LEVELS, e.g.
	// "A:90:2000000:15:0:1,B:30:100000,C:PREPAY:0"; default
	// crm.DefaultCreditPolicy).
	Credit crm.CreditPolicy
	// Accounts maps teams to the account teams (old-customer staff) that
	// take a customer its first deal makes an O (ACCOUNT_TEAMS, e.g.
	// "newbiz-north:accounts-north,accounts"; default none: customers stay
	// with their sellers).
	Accounts crm.AccountPolicy
	// JobInterval is how often the local server runs the scheduled job
	// (JOB_INTERVAL, local server only; the stack uses its JobSchedule).
	JobInterval time.Duration
	// ReleaseAPIVersion is the API version the stack's last deploy
	// published (RELEASE_API_VERSION, the job only): the job runs data
	// migrations only once the release marker names it, that is once the
	// deploy has shifted all traffic to it. Empty: no wait (local runs).
	ReleaseAPIVersion string
	// TableIndexes is which of the table's index sets the code reads
	// (TABLE_INDEXES): 2, the keys-only indexes of this release, or 1,
	// those of the release before, while a stack upgrades its indexes
	// (template.yaml's IndexUpgradeStep sets it).
	TableIndexes int
	// Import bounds what imports take of an instance
	// (IMPORT_ROWS_PER_SECOND, IMPORT_CALLS).
	Import crm.ImportLimits
	// Events is where the stream consumer publishes the domain events
	// (docs/events.md).
	Events Events
	// Webhooks configures partner webhooks (docs/partners.md).
	Webhooks Webhooks
}

// Webhooks configures the partner webhooks' targets and secrets.
type Webhooks struct {
	// Key seals the endpoints' signing secrets (WEBHOOK_KEY, base64, ≥ 32
	// bytes). In the stack KeyARN names the Secrets Manager secret holding
	// it instead, read by WebhookKeyFrom.
	Key    []byte
	KeyARN string // WEBHOOK_KEY_ARN
	// AllowHTTP takes http:// endpoints (WEBHOOK_ALLOW_HTTP); the stack
	// never sets it.
	AllowHTTP bool
	// AllowLoopback lets deliveries reach loopback addresses
	// (WEBHOOK_ALLOW_LOOPBACK), for a receiver on the same machine; local
	// only, never in the stack.
	AllowLoopback bool
	// Interval is how often the local server sends due deliveries
	// (WEBHOOK_INTERVAL; the stack uses the delivery function's schedule).
	Interval time.Duration
}

// Events configures the domain events' publishing.
type Events struct {
	// Bus is the EventBridge bus (EVENT_BUS_NAME); the stack sets it.
	Bus string
	// Endpoint overrides the EventBridge endpoint (EVENTBRIDGE_ENDPOINT).
	Endpoint string
	// Source is the events' CloudEvents source (EVENT_SOURCE, default
	// "rapport").
	Source string
	// File is the JSON lines file the local server appends them to
	// (EVENTS_FILE, default events.jsonl in RAPPORT_LOCAL_DIR).
	File string
}

// FromEnv reads the configuration through getenv (os.Getenv in main).
func FromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		TableName:      getenv("TABLE_NAME"),
		DynamoEndpoint: getenv("DYNAMODB_ENDPOINT"),
		OIDCIssuer:     getenv("OIDC_ISSUER"),
		OIDCAudience:   getenv("OIDC_AUDIENCE"),
		OIDCJWKSURL:    getenv("OIDC_JWKS_URL"),
		RolesClaim:     or(getenv("ROLES_CLAIM"), "cognito:groups"),
		TeamsClaim:     or(getenv("TEAMS_CLAIM"), "custom:teams"),

		CursorSecretARN:  getenv("CURSOR_SECRET_ARN"),
		MetricsNamespace: getenv("METRICS_NAMESPACE"),
		Events: Events{Bus: getenv("EVENT_BUS_NAME"), Endpoint: getenv("EVENTBRIDGE_ENDPOINT"),
			Source: or(getenv("EVENT_SOURCE"), "rapport"), File: getenv("EVENTS_FILE")},
	}
	var errs []string
	bad := func(name, rule string) { errs = append(errs, name+" "+rule) }
	if c.TableName == "" {
		bad("TABLE_NAME", "is required")
	}
	// Only binaries that hand out cursors need the key; they ask for it
	// with CursorSecretFrom, which fails when neither variable is set.
	if s := getenv("CURSOR_SECRET"); s != "" {
		b, err := decodeCursorSecret(s, "CURSOR_SECRET")
		if err != nil {
			bad("CURSOR_SECRET", "must be base64 of at least 32 bytes")
		}
		c.CursorSecret = b
	}
	if err := c.LogLevel.UnmarshalText([]byte(or(getenv("LOG_LEVEL"), "info"))); err != nil {
		bad("LOG_LEVEL", "must be debug, info, warn or error")
	}
	var err error
	if c.Port, err = strconv.Atoi(or(getenv("PORT"), "8080")); err != nil || c.Port < 0 || c.Port > 65535 {
		bad("PORT", "must be a port number")
	}
	if c.GraphiQL, err = strconv.ParseBool(or(getenv("GRAPHIQL"), "false")); err != nil {
		bad("GRAPHIQL", "must be true or false")
	}
	if c.Introspection, err = strconv.ParseBool(or(getenv("INTROSPECTION"), "false")); err != nil {
		bad("INTROSPECTION", "must be true or false")
	}
	if c.RequestTimeout, err = time.ParseDuration(or(getenv("REQUEST_TIMEOUT"), "10s")); err != nil || c.RequestTimeout <= 0 {
		bad("REQUEST_TIMEOUT", "must be a positive duration such as 10s")
	}
	days, err := strconv.Atoi(or(getenv("CLAIM_PERIOD_DAYS"), "7"))
	if err != nil || days < 1 || days > 365 {
		bad("CLAIM_PERIOD_DAYS", "must be a whole number of days from 1 to 365")
	}
	c.ClaimPeriod = time.Duration(days) * 24 * time.Hour
	if c.ClaimWithinTeam, err = strconv.ParseBool(or(getenv("CLAIM_WITHIN_TEAM"), "true")); err != nil {
		bad("CLAIM_WITHIN_TEAM", "must be true or false")
	}
	if c.ForbidOwnReview, err = strconv.ParseBool(or(getenv("FORBID_OWN_REVIEW"), "true")); err != nil {
		bad("FORBID_OWN_REVIEW", "must be true or false")
	}
	if c.SeparateApproval, err = strconv.ParseBool(or(getenv("CASE_SEPARATE_APPROVAL"), "true")); err != nil {
		bad("CASE_SEPARATE_APPROVAL", "must be true or false")
	}
	if n, err := strconv.Atoi(or(getenv("DECLINE_AFTER_DAYS"), "60")); err != nil || n < 1 || n > 3650 {
		bad("DECLINE_AFTER_DAYS", "must be a whole number of days from 1 to 3650")
	} else {
		c.DeclineAfter = time.Duration(n) * 24 * time.Hour
	}
	if c.JobInterval, err = time.ParseDuration(or(getenv("JOB_INTERVAL"), "1m")); err != nil || c.JobInterval < time.Second {
		bad("JOB_INTERVAL", "must be a duration of at least 1s such as 1m")
	}
	c.ReleaseAPIVersion = getenv("RELEASE_API_VERSION")
	if c.TableIndexes, err = strconv.Atoi(or(getenv("TABLE_INDEXES"), "2")); err != nil || (c.TableIndexes != 1 && c.TableIndexes != 2) {
		bad("TABLE_INDEXES", "must be 1 or 2")
	}
	c.Pipeline = crm.DefaultPipelinePolicy
	if v := getenv("PIPELINE_STAGES"); v != "" {
		if c.Pipeline, err = crm.ParsePipelinePolicy(v); err != nil {
			bad("PIPELINE_STAGES", "must list the open stages with their probabilities in percent, e.g. QUALIFY:10,PROPOSAL:50,NEGOTIATION:80: "+crm.ErrorMessage(err))
		}
	}
	c.Credit = crm.DefaultCreditPolicy
	if v := getenv("CREDIT_LEVELS"); v != "" {
		if c.Credit, err = crm.ParseCreditPolicy(v); err != nil {
			bad("CREDIT_LEVELS", "must list the credit levels best first as CODE:DAYS-or-PREPAY:LIMIT[:MAXLATE:MAXOVERDUE:MINONTIME], e.g. A:90:2000000:15:0:1,B:30:100000,C:PREPAY:0: "+crm.ErrorMessage(err))
		}
	}
	if v := getenv("LEAD_TEAMS"); v != "" {
		if c.Leads, err = crm.ParseLeadTeams(v); err != nil {
			bad("LEAD_TEAMS", "must list team names separated by commas, e.g. newbiz-north,newbiz-south: "+crm.ErrorMessage(err))
		}
	}
	if v := getenv("ACCOUNT_TEAMS"); v != "" {
		if c.Accounts, err = crm.ParseAccountTeams(v); err != nil {
			bad("ACCOUNT_TEAMS", "must list team:accountTeam pairs and at most one lone default account team, separated by commas, e.g. newbiz-north:accounts-north,accounts: "+crm.ErrorMessage(err))
		}
	}
	c.Import = crm.DefaultImportLimits
	if v := getenv("IMPORT_ROWS_PER_SECOND"); v != "" {
		if c.Import.RowsPerSecond, err = strconv.ParseFloat(v, 64); err != nil || !(c.Import.RowsPerSecond >= 0 && c.Import.RowsPerSecond <= 10000) {
			bad("IMPORT_ROWS_PER_SECOND", "must be a number of rows from 0 (not paced) to 10000")
		}
	}
	if v := getenv("IMPORT_CALLS"); v != "" {
		if c.Import.Calls, err = strconv.Atoi(v); err != nil || c.Import.Calls < 1 || c.Import.Calls > 100 {
			bad("IMPORT_CALLS", "must be a whole number from 1 to 100")
		}
	}
	c.Webhooks.KeyARN = getenv("WEBHOOK_KEY_ARN")
	if s := getenv("WEBHOOK_KEY"); s != "" {
		if c.Webhooks.Key, err = decodeCursorSecret(s, "WEBHOOK_KEY"); err != nil {
			bad("WEBHOOK_KEY", "must be base64 of at least 32 bytes")
		}
	}
	if c.Webhooks.AllowHTTP, err = strconv.ParseBool(or(getenv("WEBHOOK_ALLOW_HTTP"), "false")); err != nil {
		bad("WEBHOOK_ALLOW_HTTP", "must be true or false")
	}
	if c.Webhooks.AllowLoopback, err = strconv.ParseBool(or(getenv("WEBHOOK_ALLOW_LOOPBACK"), "false")); err != nil {
		bad("WEBHOOK_ALLOW_LOOPBACK", "must be true or false")
	}
	if c.Webhooks.Interval, err = time.ParseDuration(or(getenv("WEBHOOK_INTERVAL"), "10s")); err != nil || c.Webhooks.Interval < time.Second {
		bad("WEBHOOK_INTERVAL", "must be a duration of at least 1s such as 10s")
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	return c, nil
}

// Service applies the settings that govern the domain's rules to svc.
func (c Config) Service(svc *crm.Service) *crm.Service {
	svc.Pool.DefaultClaimPeriod = c.ClaimPeriod
	svc.Pool.ClaimWithinTeam = c.ClaimWithinTeam
	svc.ForbidOwnReview = c.ForbidOwnReview
	svc.SeparateApproval = c.SeparateApproval
	svc.DeclineAfter = c.DeclineAfter
	svc.Import = c.Import
	svc.Pipeline = c.Pipeline
	svc.Leads = c.Leads
	svc.Credit = c.Credit
	svc.Accounts = c.Accounts
	return svc
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
