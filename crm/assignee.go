package crm

import "context"

// CheckAssignee checks that userID may be given work in field (a
// customer's owner, say): a real, active user holding one of roles (any
// role when none is given). It returns BAD_USER_INPUT naming field
// otherwise.
//
// This is a stand-in until the user directory (issue #13) lands: without a
// directory there is no list of real users to check against, so it accepts
// any id that could be a user's. The directory's CheckAssignee, with this
// same signature, replaces it and also refuses unknown and deactivated
// users and those without one of roles.
func (s *Service) CheckAssignee(ctx context.Context, field, userID string, roles ...Role) error {
	if _, err := currentUser(ctx); err != nil {
		return err
	}
	return checkID(field, userID)
}
