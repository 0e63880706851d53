package crm

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"unicode"
)

// DuplicateCandidate is a customer whose name is close to a given one.
type DuplicateCandidate struct {
	Customer *Customer
	// Score is the name similarity, from 0.5 (a candidate) to 1 (same name).
	Score float64
}

// nameNoise are words that say what kind of organization a name is, not
// which one; they are left out when names are compared.
var nameNoise = []string{"co", "ltd", "inc", "llc", "company", "limited", "corp", "corporation", "group"}

// cjkSuffixes are the same for names written without spaces.
var cjkSuffixes = []string{"有限责任公司", "股份有限公司", "有限公司", "集团", "公司"}

// NameBucket groups customers whose names may be duplicates: the first two
// letters or digits of the normalized name. Near matches share it unless
// they differ in their very first letters.
func NameBucket(name string) string {
	var b []rune
	for _, r := range NormalizeName(name) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if b = append(b, r); len(b) == 2 {
				break
			}
		}
	}
	return string(b)
}

func nameTokens(name string) []string {
	var out []string
	for _, t := range strings.FieldsFunc(NormalizeName(name), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		for _, suf := range cjkSuffixes {
			if strings.HasSuffix(t, suf) && t != suf {
				t = strings.TrimSuffix(t, suf)
				break
			}
		}
		if !slices.Contains(nameNoise, t) && !slices.Contains(cjkSuffixes, t) {
			out = append(out, t)
		}
	}
	return out
}

// NameSimilarity compares two names from 0 to 1: the better of the word
// overlap (order and legal suffixes ignored) and the edit similarity of the
// remaining words (typos).
func NameSimilarity(a, b string) float64 {
	ta, tb := nameTokens(a), nameTokens(b)
	if len(ta) == 0 || len(tb) == 0 {
		return 0
	}
	shared := 0
	for _, t := range ta {
		if slices.Contains(tb, t) {
			shared++
		}
	}
	overlap := float64(shared) / float64(len(ta)+len(tb)-shared)
	ra, rb := []rune(strings.Join(ta, " ")), []rune(strings.Join(tb, " "))
	edit := 1 - float64(levenshtein(ra, rb))/float64(max(len(ra), len(rb)))
	return max(overlap, edit)
}

func levenshtein(a, b []rune) int {
	prev, cur := make([]int, len(b)+1), make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// duplicateThreshold is the similarity from which a name is a candidate.
const duplicateThreshold = 0.5

// DefaultDuplicateCandidates is how many candidates a caller who does not
// say gets.
const DefaultDuplicateCandidates = 10

// DuplicateCandidates finds active customers the caller may read whose
// names are close to name, most similar first. excludeID leaves out the
// customer the name belongs to.
// Errors: UNAUTHENTICATED, BAD_USER_INPUT.
func (s *Service) DuplicateCandidates(ctx context.Context, name, excludeID string, limit int) ([]DuplicateCandidate, error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	var c checker
	c.text("name", strings.TrimSpace(name), 1, MaxNameLen)
	if limit < 1 || limit > MaxPageSize {
		c.fail("first", "must be between 1 and %d", MaxPageSize)
	}
	if err := c.result(); err != nil {
		return nil, err
	}
	bucket := NameBucket(name)
	if bucket == "" {
		return nil, Invalid("name", "must contain a letter or digit")
	}
	// Scored on the name index's entries; only the candidates' profiles
	// are read, in one batch.
	entries, err := s.Store.NameBucket(ctx, bucket)
	if err != nil {
		return nil, err
	}
	scores := map[string]float64{}
	var ids []string
	for _, e := range entries {
		if e.ID == excludeID || e.Status != StatusActive {
			continue
		}
		if score := NameSimilarity(name, e.NameKey); score >= duplicateThreshold {
			scores[e.ID] = score
			ids = append(ids, e.ID)
		}
	}
	slices.SortStableFunc(ids, func(a, b string) int { return cmp.Or(cmp.Compare(scores[b], scores[a]), strings.Compare(a, b)) })
	ids = ids[:min(len(ids), MaxPageSize)]
	found, err := s.Store.Customers(ctx, ids)
	if err != nil {
		return nil, err
	}
	var out []DuplicateCandidate
	for _, id := range ids {
		other, ok := found[id]
		if !ok || other.Status != StatusActive || other.MergedInto != "" || !canRead(u, other) {
			continue
		}
		out = append(out, DuplicateCandidate{Customer: viewCustomer(u, other), Score: round2(scores[id])})
	}
	return out[:min(len(out), limit)], nil
}

// NameEntry is a customer as the name index lists it: enough to score a
// duplicate candidate before reading its profile.
type NameEntry struct {
	ID      string
	NameKey string // NormalizeName of the name
	Status  Status
}
