package model

// UserConnection is a page of users of the directory.
type UserConnection struct {
	Edges    []*UserEdge
	PageInfo *PageInfo
	Counted
}
