package dynamo

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
)

// Partner organizations, their API keys and the customers shared with them
// (docs/access-patterns.md):
//
//	PORG#<org>     / PORG         the organization; gList PARTNERS
//	APIKEY#<id>    / APIKEY       a key: its hash, never the key; gList APIKEYS#<org>
//	CUST#<id>      / #P#<org>     a share entry; gList PARTNER#<org>, gSort customer id
//
// The Lambda authorizer reads only the first two kinds (template.yaml
// scopes its role to these key prefixes) and writes only lastUsedAt.
const (
	skPartnerOrg  = "PORG"
	skAPIKey      = "APIKEY"
	skSharePrefix = "#P#"
	listPartners  = "PARTNERS"
)

func partnerOrgPK(id string) string       { return "PORG#" + id }
func apiKeyPK(id string) string           { return "APIKEY#" + id }
func apiKeysListKey(org string) string    { return "APIKEYS#" + org }
func partnerListKey(org string) string    { return "PARTNER#" + org }
func shareSK(org string) string           { return skSharePrefix + org }
func keyListSort(k *crm.APIKey) string    { return dueKey(k.CreatedAt, k.ID) }
func partnerCounterDim(org string) string { return "PARTNER#" + org }

type partnerShareItem struct {
	OrgID string    `dynamodbav:"org"`
	By    string    `dynamodbav:"by"`
	At    time.Time `dynamodbav:"at"`
}

func toShareItems(ps []crm.PartnerShare) []partnerShareItem {
	var out []partnerShareItem
	for _, p := range ps {
		out = append(out, partnerShareItem(p))
	}
	return out
}

func fromShareItems(ps []partnerShareItem) []crm.PartnerShare {
	var out []crm.PartnerShare
	for _, p := range ps {
		out = append(out, crm.PartnerShare(p))
	}
	return out
}

func shareOrgs(c *crm.Customer) []string {
	if c == nil {
		return nil
	}
	out := make([]string, len(c.Partners))
	for i, p := range c.Partners {
		out[i] = p.OrgID
	}
	return out
}

// partnerShares keeps one entry per partner organization in the customer's
// collection, which lists the customer in that organization's byList
// partition, like tag entries.
func (t *tx) partnerShares(prev, next *crm.Customer) {
	before, after := shareOrgs(prev), shareOrgs(next)
	id := next.ID
	for _, org := range removed(before, after) {
		t.del(customerPK(id), shareSK(org), "", nil, nil)
	}
	for _, org := range removed(after, before) {
		t.put(map[string]types.AttributeValue{
			"pk": str(customerPK(id)), "sk": str(shareSK(org)), "type": str("partnerShare"),
			"gList": str(partnerListKey(org)), "gSort": str(id), "customerId": str(id),
		}, "", nil, nil)
	}
}

type partnerOrgItem struct {
	PK    string `dynamodbav:"pk"`
	SK    string `dynamodbav:"sk"`
	Type  string `dynamodbav:"type"`
	GList string `dynamodbav:"gList"`
	GSort string `dynamodbav:"gSort"`

	ID     string `dynamodbav:"id"`
	Name   string `dynamodbav:"name"`
	Status string `dynamodbav:"status"`
	// Masked is always written, an empty list when nothing is masked; an
	// item without it reads as masking everything.
	Masked []string `dynamodbav:"masked"`
	// ShowAmounts absent (an organization made before the policy had it)
	// reads false: amounts hidden.
	ShowAmounts bool      `dynamodbav:"showAmounts,omitempty"`
	Version     int       `dynamodbav:"version"`
	CreatedAt   time.Time `dynamodbav:"createdAt"`
	CreatedBy   string    `dynamodbav:"createdBy"`
	UpdatedAt   time.Time `dynamodbav:"updatedAt"`
	UpdatedBy   string    `dynamodbav:"updatedBy"`
}

func toPartnerOrgItem(o *crm.PartnerOrg) *partnerOrgItem {
	it := &partnerOrgItem{PK: partnerOrgPK(o.ID), SK: skPartnerOrg, Type: "partnerOrg", GList: listPartners, GSort: o.ID,
		ID: o.ID, Name: o.Name, Status: string(o.Status), Masked: []string{}, ShowAmounts: o.ShowAmounts, Version: o.Version,
		CreatedAt: o.CreatedAt, CreatedBy: o.CreatedBy, UpdatedAt: o.UpdatedAt, UpdatedBy: o.UpdatedBy}
	for _, f := range o.Masked {
		it.Masked = append(it.Masked, string(f))
	}
	return it
}

func fromPartnerOrgItem(it *partnerOrgItem) *crm.PartnerOrg {
	o := &crm.PartnerOrg{ID: it.ID, Name: it.Name, Status: crm.PartnerStatus(it.Status), Masked: []crm.MaskField{}, ShowAmounts: it.ShowAmounts,
		Version: it.Version, CreatedAt: it.CreatedAt, CreatedBy: it.CreatedBy, UpdatedAt: it.UpdatedAt, UpdatedBy: it.UpdatedBy}
	if it.Masked == nil {
		o.Masked = slices.Clone(crm.MaskFields)
	}
	for _, f := range it.Masked {
		o.Masked = append(o.Masked, crm.MaskField(f))
	}
	return o
}

type apiKeyItem struct {
	PK    string `dynamodbav:"pk"`
	SK    string `dynamodbav:"sk"`
	Type  string `dynamodbav:"type"`
	GList string `dynamodbav:"gList"`
	GSort string `dynamodbav:"gSort"`

	ID        string    `dynamodbav:"id"`
	OrgID     string    `dynamodbav:"orgId"`
	Name      string    `dynamodbav:"name"`
	Hash      string    `dynamodbav:"hash"`
	Last4     string    `dynamodbav:"last4"`
	CreatedBy string    `dynamodbav:"createdBy"`
	CreatedAt time.Time `dynamodbav:"createdAt"`
	// LastUsedAt is Unix milliseconds: a number, so that the conditional
	// touch compares it correctly.
	LastUsedAt int64      `dynamodbav:"lastUsedAt,omitempty"`
	RevokedAt  *time.Time `dynamodbav:"revokedAt,omitempty"`
	RevokedBy  string     `dynamodbav:"revokedBy,omitempty"`
}

func toAPIKeyItem(k *crm.APIKey) *apiKeyItem {
	it := &apiKeyItem{PK: apiKeyPK(k.ID), SK: skAPIKey, Type: "apiKey", GList: apiKeysListKey(k.OrgID), GSort: keyListSort(k),
		ID: k.ID, OrgID: k.OrgID, Name: k.Name, Hash: k.Hash, Last4: k.Last4, CreatedBy: k.CreatedBy,
		CreatedAt: k.CreatedAt, RevokedAt: k.RevokedAt, RevokedBy: k.RevokedBy}
	if k.LastUsedAt != nil {
		it.LastUsedAt = k.LastUsedAt.UnixMilli()
	}
	return it
}

func fromAPIKeyItem(it *apiKeyItem) *crm.APIKey {
	k := &crm.APIKey{ID: it.ID, OrgID: it.OrgID, Name: it.Name, Hash: it.Hash, Last4: it.Last4, CreatedBy: it.CreatedBy,
		CreatedAt: it.CreatedAt, RevokedAt: it.RevokedAt, RevokedBy: it.RevokedBy}
	if it.LastUsedAt != 0 {
		t := time.UnixMilli(it.LastUsedAt).UTC()
		k.LastUsedAt = &t
	}
	return k
}

// CreatePartnerOrg stores a new organization.
func (s *Store) CreatePartnerOrg(ctx context.Context, o *crm.PartnerOrg) error {
	x := &tx{s: s}
	x.created("partnerOrganization", o.ID, "", toPartnerOrgItem(o))
	return x.commit(ctx)
}

// UpdatePartnerOrg replaces prev, if it is still the stored version, by o.
func (s *Store) UpdatePartnerOrg(ctx context.Context, prev, o *crm.PartnerOrg) error {
	x := &tx{s: s}
	x.entity("partnerOrganization", o.ID, "", toPartnerOrgItem(prev), toPartnerOrgItem(o))
	return x.commit(ctx)
}

// PartnerOrg reads an organization.
func (s *Store) PartnerOrg(ctx context.Context, id string) (*crm.PartnerOrg, error) {
	var it partnerOrgItem
	if err := s.get(ctx, partnerOrgPK(id), skPartnerOrg, &it, "partner organization "+id+" not found"); err != nil {
		return nil, err
	}
	return fromPartnerOrgItem(&it), nil
}

// listByList walks one byList partition, newest first: the index's keys,
// then the items in one BatchGetItem per page (the index projects whole
// items only for audit entries).
func listByList[I any, T any](ctx context.Context, s *Store, name, partition string, conv func(*I) T, p crm.PageRequest) (*crm.Page[T], error) {
	return collect(ctx, s, fetchedPlan(s, name, partition, conv), p)
}

// fetchedPlan is byListPlan for items the index does not project: a page
// of keys, then the items.
func fetchedPlan[I any, T any](s *Store, name, partition string, conv func(*I) T) listPlan[T] {
	decode := decodeAll(conv)
	return byListPlan(s, name, partition, func(ctx context.Context, raw []map[string]types.AttributeValue) ([]T, []bool, error) {
		items, err := s.fetch(ctx, raw)
		if err != nil {
			return nil, nil, err
		}
		out, match := make([]T, len(raw)), make([]bool, len(raw))
		for i, it := range items {
			if it == nil {
				continue
			}
			one, _, err := decode(ctx, []map[string]types.AttributeValue{it})
			if err != nil {
				return nil, nil, err
			}
			out[i], match[i] = one[0], true
		}
		return out, match, nil
	})
}

// fetch reads the items that index entries name, in their order; an item
// gone since is nil.
func (s *Store) fetch(ctx context.Context, entries []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	keys := make([]map[string]types.AttributeValue, len(entries))
	for i, e := range entries {
		keys[i] = key(strAttr(e["pk"]), strAttr(e["sk"]))
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, err
	}
	byKey := map[string]map[string]types.AttributeValue{}
	for _, it := range items {
		byKey[strAttr(it["pk"])+"\x00"+strAttr(it["sk"])] = it
	}
	out := make([]map[string]types.AttributeValue, len(entries))
	for i, e := range entries {
		out[i] = byKey[strAttr(e["pk"])+"\x00"+strAttr(e["sk"])]
	}
	return out, nil
}

// byListPlan is the plan of one byList partition read newest first: the
// lists of templates, partner organizations, API keys and a customer's
// audit trail.
func byListPlan[T any](s *Store, name, partition string, decode func(context.Context, []map[string]types.AttributeValue) ([]T, []bool, error)) listPlan[T] {
	return listPlan[T]{
		name: name,
		query: dynamodb.QueryInput{
			TableName:                 &s.table,
			IndexName:                 aws.String(s.idx.List),
			KeyConditionExpression:    aws.String("gList = :k"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":k": str(partition)},
			ScanIndexForward:          aws.Bool(false),
		},
		keyAttr: []string{"pk", "sk", "gList", "gSort"},
		decode:  decode,
	}
}

// ListPartnerOrgs lists organizations, newest first.
func (s *Store) ListPartnerOrgs(ctx context.Context, p crm.PageRequest) (*crm.Page[*crm.PartnerOrg], error) {
	return listByList(ctx, s, "partners", listPartners, fromPartnerOrgItem, p)
}

// CreateAPIKey stores a new key.
func (s *Store) CreateAPIKey(ctx context.Context, k *crm.APIKey) error {
	x := &tx{s: s}
	x.created("apiKey", k.ID, "", toAPIKeyItem(k))
	return x.commit(ctx)
}

// APIKey reads a key by id, consistently, so a revocation is seen at once.
func (s *Store) APIKey(ctx context.Context, id string) (*crm.APIKey, error) {
	var it apiKeyItem
	if err := s.get(ctx, apiKeyPK(id), skAPIKey, &it, "API key "+id+" not found"); err != nil {
		return nil, err
	}
	return fromAPIKeyItem(&it), nil
}

// ListAPIKeys lists an organization's keys, newest first.
func (s *Store) ListAPIKeys(ctx context.Context, orgID string, p crm.PageRequest) (*crm.Page[*crm.APIKey], error) {
	return listByList(ctx, s, "apikeys/"+orgID, apiKeysListKey(orgID), fromAPIKeyItem, p)
}

// RevokeAPIKey marks a key revoked, once. Only the revocation attributes
// are written: lastUsedAt may have moved since k was read.
func (s *Store) RevokeAPIKey(ctx context.Context, k *crm.APIKey) error {
	if k.RevokedAt == nil {
		return fmt.Errorf("revoke API key %s: no revocation time", k.ID)
	}
	x := &tx{s: s}
	at := x.marshal(struct {
		At time.Time `dynamodbav:"at"`
	}{*k.RevokedAt})["at"]
	x.update(apiKeyPK(k.ID), skAPIKey, "SET revokedAt = :at, revokedBy = :by", "attribute_exists(pk) AND attribute_not_exists(revokedAt)",
		map[string]types.AttributeValue{":at": at, ":by": str(k.RevokedBy)}, conflict("API key "+k.ID))
	before := *k
	before.RevokedAt, before.RevokedBy = nil, ""
	x.record("apiKey", k.ID, "", x.marshal(toAPIKeyItem(&before)), x.marshal(toAPIKeyItem(k)))
	return x.commit(ctx)
}

// TouchAPIKey records a key's use unless it was recorded after notBefore.
// The update names only pk and lastUsedAt: the authorizer's role may touch
// no other attribute (template.yaml), so it cannot, say, undo a revocation.
func (s *Store) TouchAPIKey(ctx context.Context, id string, at, notBefore time.Time) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(apiKeyPK(id), skAPIKey),
		UpdateExpression:    aws.String("SET lastUsedAt = :at"),
		ConditionExpression: aws.String("attribute_exists(pk) AND (attribute_not_exists(lastUsedAt) OR lastUsedAt <= :nb)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":at": &types.AttributeValueMemberN{Value: fmt.Sprint(at.UnixMilli())},
			":nb": &types.AttributeValueMemberN{Value: fmt.Sprint(notBefore.UnixMilli())},
		},
	})
	return wrap("touch API key", err)
}
