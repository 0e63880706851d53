package crm

import (
	"context"
	"fmt"
	"slices"
)

// ChangeTags adds and removes a customer's tags without replacing the
// list, as a mobile app's tag chips do. It takes no expected version: the
// change is built from the freshly read profile and, when another writer
// got in first, built again from what that writer left (applyFresh), so two
// people tagging the same customer at once both keep their changes. Adding
// a tag the customer has, or removing one it lacks, changes nothing; when
// nothing changes, nothing is written. UpdateCustomer's Tags still replaces
// the whole list.
// Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT (a bad tag,
// a tag both added and removed, more than MaxTags in the end), CONFLICT
// (archived or merged customer).
func (s *Service) ChangeTags(ctx context.Context, id string, add, remove []string) (*Customer, error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkID("input.customerId", id); err != nil {
		return nil, err
	}
	add, remove = slices.Clone(add), slices.Clone(remove)
	if err := checkTagChange(add, remove); err != nil {
		return nil, err
	}
	var next *Customer
	err = s.applyFresh(ctx, func() (*Change, error) {
		prev, err := s.editable(ctx, u, id, canEdit, "tag")
		if err != nil {
			return nil, err
		}
		tags := slices.DeleteFunc(slices.Clone(prev.Tags), func(t string) bool { return slices.Contains(remove, t) })
		for _, t := range add {
			if !slices.Contains(tags, t) {
				tags = append(tags, t)
			}
		}
		if n := len(tags); n > MaxTags {
			return nil, Invalid("input.add", "would give the customer %d tags, more than the %d allowed; remove some first", n, MaxTags)
		}
		if slices.Equal(tags, prev.Tags) {
			next = prev
			return nil, errNothingToDo
		}
		next = prev.Clone()
		next.Tags = tags
		s.touch(next, u)
		return &Change{CustomerPrev: prev, Customer: next}, nil
	})
	if err != nil && err != errNothingToDo {
		return nil, err
	}
	return next, nil
}

// checkTagChange normalizes the tags to add and remove and refuses bad or
// contradictory ones.
func checkTagChange(add, remove []string) error {
	var c checker
	if len(add) == 0 && len(remove) == 0 {
		c.fail("input.add", "give at least one tag to add or remove")
	}
	c.normalized("input.add", add, MaxTags, NormalizeTag, "must be 1 to 40 letters, digits, '-' or '_'")
	c.normalized("input.remove", remove, MaxTags, NormalizeTag, "must be 1 to 40 letters, digits, '-' or '_'")
	for i, t := range remove {
		if slices.Contains(add, t) {
			c.fail(fmt.Sprintf("input.remove[%d]", i), "%q is also in add; a tag is either added or removed", t)
		}
	}
	return c.result()
}
