package model

import "time"

// CurrentGrade is a customer's current grade. It is written by hand so that
// it carries the level's code: the level itself (label, service policy) is
// resolved from the grading policy in force.
type CurrentGrade struct {
	LevelCode     string
	Source        GradeSource
	Reason        *string
	Rule          *string
	SetBy         *string
	SetAt         time.Time
	PolicyVersion *int
	Metrics       []*Metric
}
