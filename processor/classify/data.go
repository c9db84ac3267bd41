package classify

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Example is one labeled training text.
type Example struct {
	ID, Text, Category, Theme, Executor string
}

// Label returns the example's class name for a head.
func (e Example) Label(h Head) string {
	switch h {
	case HeadCategory:
		return e.Category
	case HeadTheme:
		return e.Theme
	}
	return e.Executor
}

// DataStats says what ReadExamples kept and why it skipped the rest, so a curator can see that nothing
// vanished silently.
type DataStats struct {
	Rows, Kept, Empty, Duplicate, Test, Unlabeled int
}

func (s DataStats) String() string {
	return fmt.Sprintf("rows %d, kept %d, skipped: empty text %d, duplicate text %d, test rows %d, missing label %d",
		s.Rows, s.Kept, s.Empty, s.Duplicate, s.Test, s.Unlabeled)
}

// ErrBadData marks a training file that cannot be used at all.
var ErrBadData = errors.New("classify: bad training data")

var requiredColumns = []string{"id", "text", "category", "theme", "executor"}

// ReadExamples reads a labeled CSV with a header naming at least id,text,category,theme,executor (any
// order). It skips rows with empty text, exact duplicate texts after the first (they would leak across
// cross-validation folds), the portal's test rows and rows missing a label, and counts each kind.
func ReadExamples(r io.Reader) ([]Example, DataStats, error) {
	var st DataStats
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, st, fmt.Errorf("%w: header: %w", ErrBadData, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	for _, c := range requiredColumns {
		if _, ok := col[c]; !ok {
			return nil, st, fmt.Errorf("%w: no %q column in header %q", ErrBadData, c, head)
		}
	}
	seen := map[string]bool{}
	var out []Example
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, st, fmt.Errorf("%w: line %d: %w", ErrBadData, line, err)
		}
		st.Rows++
		get := func(name string) string {
			if i := col[name]; i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		e := Example{ID: get("id"), Text: get("text"), Category: get("category"), Theme: get("theme"), Executor: get("executor")}
		norm := strings.Join(strings.Fields(strings.ToLower(e.Text)), " ")
		switch {
		case norm == "":
			st.Empty++
		case isTestLabel(e.Category) || isTestLabel(e.Executor):
			st.Test++
		case e.Category == "" || e.Theme == "" || e.Executor == "":
			st.Unlabeled++
		case seen[norm]:
			st.Duplicate++
		default:
			seen[norm] = true
			out = append(out, e)
		}
	}
	st.Kept = len(out)
	if len(out) == 0 {
		return nil, st, fmt.Errorf("%w: no usable rows (%s)", ErrBadData, st)
	}
	return out, st, nil
}

func isTestLabel(s string) bool {
	return strings.HasPrefix(strings.ToLower(s), "тестов")
}
