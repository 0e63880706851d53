package bulk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// The state file keeps an import's progress beside its file
// (customers.xlsx.rapport-import): a first line naming the import, its
// file (by SHA-256) and its options, then a line per call with the results
// of the rows it finished. Lines are appended and synced after every call,
// so an interrupted import knows every row the API answered for; a row in
// flight when it stopped is sent again, under the same key, and the API
// finds what it wrote. A line cut short by a crash is dropped.

// stateHeader names an import and what it was started with.
type stateHeader struct {
	ImportID   string    `json:"importId"`
	File       string    `json:"file"`
	SHA256     string    `json:"sha256"`
	Sheet      string    `json:"sheet,omitempty"`
	Duplicates string    `json:"duplicates"`
	Map        []string  `json:"map,omitempty"`
	Kind       string    `json:"kind,omitempty"`
	Started    time.Time `json:"started"`
}

// sameOptions says how two starts of an import differ, "" when they do not.
func (h stateHeader) sameOptions(o stateHeader) string {
	switch {
	case h.Sheet != o.Sheet:
		return fmt.Sprintf("--sheet %q", h.Sheet)
	case h.Duplicates != o.Duplicates:
		return "--duplicates " + strings.ToLower(h.Duplicates)
	case !slices.Equal(h.Map, o.Map):
		return fmt.Sprintf("--map %q", h.Map)
	case h.Kind != o.Kind:
		return fmt.Sprintf("--kind %q", h.Kind)
	}
	return ""
}

// problem is an ImportProblem.
type problem struct {
	Code       string `json:"code"`
	Field      string `json:"field,omitempty"`
	Message    string `json:"message"`
	ExistingID string `json:"existingId,omitempty"`
}

// rowResult is an ImportRowResult.
type rowResult struct {
	Row         int       `json:"row"`
	Status      string    `json:"status"`
	CustomerID  string    `json:"customerId,omitempty"`
	ExistingID  string    `json:"existingId,omitempty"`
	DuplicateOn string    `json:"duplicateOn,omitempty"`
	Filled      []string  `json:"filled,omitempty"`
	Problems    []problem `json:"problems,omitempty"`
}

type stateLine struct {
	Import   *stateHeader `json:"import,omitempty"`
	Rows     []rowResult  `json:"rows,omitempty"`
	Finished *time.Time   `json:"finished,omitempty"`
}

// state is an open state file.
type state struct {
	path     string
	header   stateHeader
	done     map[int]rowResult
	finished *time.Time
	f        *os.File
}

// errChanged says a state file belongs to another version of the file.
var errChanged = errors.New("changed")

// openState carries on the import recorded at path, when its file and
// options are those of h, or starts a new one there. fresh starts anew
// whatever the file holds.
func openState(path string, h stateHeader, fresh bool) (*state, bool, error) {
	s := &state{path: path, header: h, done: map[int]rowResult{}}
	if !fresh {
		resumed, err := s.load(h)
		if err != nil || resumed {
			return s, resumed, err
		}
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, false, err
	}
	s.f = f
	return s, false, s.append(stateLine{Import: &h})
}

// load reads an existing state file; false when there is none.
func (s *state) load(h stateHeader) (bool, error) {
	b, err := os.ReadFile(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	good := 0 // bytes of complete, readable lines
	first := true
	for rest := b; ; {
		i := bytes.IndexByte(rest, '\n')
		var l stateLine
		if i < 0 || json.Unmarshal(rest[:i], &l) != nil {
			break
		}
		if first {
			if l.Import == nil {
				return false, fmt.Errorf("%s is not an import's state file", s.path)
			}
			s.header, first = *l.Import, false
		}
		for _, r := range l.Rows {
			s.done[r.Row] = r
		}
		if l.Finished != nil {
			s.finished = l.Finished
		}
		good += i + 1
		rest = rest[i+1:]
	}
	if first {
		return false, nil // empty, or cut short before its first line
	}
	switch {
	case s.header.SHA256 != h.SHA256:
		return false, fmt.Errorf("%w since import %s started (%s)", errChanged, s.header.ImportID, s.path)
	case s.header.sameOptions(h) != "":
		return false, fmt.Errorf("import %s was started with %s: run it again with the same options, or start over with --new",
			s.header.ImportID, s.header.sameOptions(h))
	}
	f, err := os.OpenFile(s.path, os.O_WRONLY, 0o600)
	if err != nil {
		return false, err
	}
	if err := f.Truncate(int64(good)); err != nil {
		return false, errors.Join(err, f.Close())
	}
	if _, err := f.Seek(int64(good), io.SeekStart); err != nil {
		return false, errors.Join(err, f.Close())
	}
	s.f = f
	return true, nil
}

// record appends the results of a call's finished rows.
func (s *state) record(rows []rowResult) error {
	for _, r := range rows {
		s.done[r.Row] = r
	}
	return s.append(stateLine{Rows: rows})
}

// finish marks the import finished.
func (s *state) finish(at time.Time) error {
	s.finished = &at
	return s.append(stateLine{Finished: &at})
}

func (s *state) append(l stateLine) error {
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	if _, err := s.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write %s: %w", s.path, err)
	}
	return s.f.Sync()
}

func (s *state) close() error { return s.f.Close() }
