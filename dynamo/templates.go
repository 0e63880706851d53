package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
)

// A template is an item per version (never rewritten) plus a "latest" item
// that copies the newest version and lists the template in byList.

// CreateTemplate stores version 1 and the latest pointer.
func (s *Store) CreateTemplate(ctx context.Context, t *crm.Template) error {
	x := &tx{s: s}
	x.created("template", fmt.Sprintf("%s/v%d", t.ID, t.Version), "", toTemplateItem(t, false))
	x.put(x.marshal(toTemplateItem(t, true)), notExists, nil, conflict("template "+t.ID))
	x.add(counterPK("TEMPLATES"), skCounter, 1)
	return x.commit(ctx)
}

// AddTemplateVersion stores t.Version and moves the latest pointer to it,
// provided the pointer is still at the version before.
func (s *Store) AddTemplateVersion(ctx context.Context, t *crm.Template) error {
	x := &tx{s: s}
	x.created("template", fmt.Sprintf("%s/v%d", t.ID, t.Version), "", toTemplateItem(t, false))
	x.put(x.marshal(toTemplateItem(t, true)), "latestVersion = :prev",
		map[string]types.AttributeValue{":prev": num(t.Version - 1)},
		func(old map[string]types.AttributeValue) error {
			if old == nil {
				return crm.Errorf(crm.ENOTFOUND, "template %s not found", t.ID)
			}
			return crm.Errorf(crm.ECONFLICT, "template %s got a new version meanwhile; reload and retry", t.ID)
		})
	return x.commit(ctx)
}

// Template reads one version (0: the latest) together with the latest
// pointer, in one batch, so LatestVersion is always known.
func (s *Store) Template(ctx context.Context, id string, version int) (*crm.Template, error) {
	keys := []map[string]types.AttributeValue{key(templatePK(id), skTplLatest)}
	if version > 0 {
		keys = append(keys, key(templatePK(id), templateSK(version)))
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, err
	}
	var latest, wanted *crm.Template
	for _, raw := range items {
		var it templateItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return nil, fmt.Errorf("unmarshal template: %w", err)
		}
		if it.SK == skTplLatest {
			latest = fromTemplateItem(&it)
		} else {
			wanted = fromTemplateItem(&it)
		}
	}
	if version == 0 {
		wanted = latest
	}
	if latest == nil || wanted == nil {
		return nil, crm.Errorf(crm.ENOTFOUND, "template %s version %d not found", id, version)
	}
	wanted.LatestVersion = latest.Version
	return wanted, nil
}

// ListTemplates lists the latest version of each template, newest first.
func (s *Store) ListTemplates(ctx context.Context, p crm.PageRequest) (*crm.Page[*crm.Template], error) {
	plan := fetchedPlan(s, "templates", listTemplates, fromTemplateItem)
	plan.total = s.counterTotal("TEMPLATES")
	return collect(ctx, s, plan, p)
}
