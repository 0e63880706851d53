package crm

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"unicode"

	"github.com/rapportcrm/rapport/names"
	"github.com/rapportcrm/rapport/search"
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

func nameTokens(name string) []string {
	var out []string
	for _, t := range strings.FieldsFunc(NormalizeName(name), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		if slices.Contains(cjkSuffixes, t) || names.LegalForm(t) {
			continue // 有限公司 written apart is a legal form, not 有限 and 公司
		}
		for _, suf := range cjkSuffixes {
			if strings.HasSuffix(t, suf) {
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

// sameCore is the score of two names with the same core (names.Core) but
// not the same words: 北京华信科技有限公司 and 华信科技(北京)有限公司, or
// 上海华信科技有限公司. Likely the same organization, or one of its branches,
// but not surely: a person decides. Only the same words score 1, which an
// import takes for the same organization.
const sameCore = 0.9

// DefaultDuplicateCandidates is how many candidates a caller who does not
// say gets.
const DefaultDuplicateCandidates = 10

// DuplicateScore compares a name with a customer's, from 0 to 1: 1 for the
// same words (NameSimilarity, legal forms and word order aside), sameCore
// (0.9) for the same core, else the better of the names' and the cores'
// similarity, below sameCore. core is the name's core as
// search.DuplicateLookup returns it; e is the customer as the index lists
// it.
func DuplicateScore(name, core string, e NameEntry) float64 {
	s := NameSimilarity(name, e.Name)
	if s == 1 {
		return 1
	}
	other := e.Core
	if other == "" {
		// A name that is its own core has no key of its core.
		other = search.Compact(e.Name)
	}
	if core == other {
		return sameCore
	}
	ra, rb := []rune(core), []rune(other)
	edit := 1 - float64(levenshtein(ra, rb))/float64(max(len(ra), len(rb), 1))
	return min(max(s, edit), sameCore-0.01)
}

// DuplicateCandidates are the candidates of a name, and whether every
// customer whose core starts like the name's was compared.
type DuplicateCandidates struct {
	Candidates []DuplicateCandidate
	// Complete is false when more customers share the start of the core
	// than one search compares (the Store's bound): the candidates are the
	// best of those compared.
	Complete bool
}

// DuplicateCandidates finds active customers the caller may read whose
// names may be the same as name, most similar first: those whose name or
// core starts with the first word of the name's core
// (search.DuplicateLookup), scored by DuplicateScore. excludeID leaves out
// the customer the name belongs to.
// Errors: UNAUTHENTICATED, BAD_USER_INPUT.
func (s *Service) DuplicateCandidates(ctx context.Context, name, excludeID string, limit int) (*DuplicateCandidates, error) {
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
	l, core, err := search.DuplicateLookup(name)
	if err != nil {
		return nil, Invalid("name", "must contain a letter or digit")
	}
	// Scored on the index's entries; only the best candidates' profiles
	// are read, in one batch.
	entries, complete, err := s.Store.DuplicateMatches(ctx, l)
	if err != nil {
		return nil, err
	}
	scores := map[string]float64{}
	var ids []string
	for _, e := range entries {
		if e.ID == excludeID {
			continue
		}
		if score := DuplicateScore(name, core, e); score >= duplicateThreshold {
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
	out := &DuplicateCandidates{Complete: complete, Candidates: []DuplicateCandidate{}}
	for _, id := range ids {
		other, ok := found[id]
		if !ok || other.Status != StatusActive || other.MergedInto != "" || !canRead(u, other) {
			continue
		}
		out.Candidates = append(out.Candidates, DuplicateCandidate{Customer: viewCustomer(u, other), Score: round2(scores[id])})
	}
	out.Candidates = out.Candidates[:min(len(out.Candidates), limit)]
	return out, nil
}

// NameEntry is a customer as the search index lists it for a duplicate
// lookup: enough to score a candidate before reading its profile.
type NameEntry struct {
	ID string
	// Name is the customer's name folded (search.NameValue).
	Name string
	// Core is the core of an organization's name, compacted, when it
	// differs from Name; else "".
	Core string
}
