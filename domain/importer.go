package domain

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ImportRow is one row of a village import file, numbered as the user sees
// it in the file (the first line is 1).
type ImportRow struct {
	Line    int
	Town    string
	Village string
	Kind    string
	Code    string
}

// RowError says what is wrong with one row of an import file.
type RowError struct {
	Line    int    `json:"row"`
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ImportError is returned when any row of an import is bad; nothing was imported.
type ImportError struct {
	Rows []RowError
}

func (e *ImportError) Error() string {
	return fmt.Sprintf("import rejected: %d bad rows", len(e.Rows))
}

// ImportResult counts what an import did.
type ImportResult struct {
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
}

// MaxImportRows bounds one import file.
const MaxImportRows = 5000

// ImportVillages checks every row first and imports nothing when any is
// bad. Rows name existing towns; a village already there with the same
// kind and code is left alone, so importing the same file again changes nothing.
func (s OrgService) ImportVillages(ctx context.Context, c Caller, rows []ImportRow) (ImportResult, error) {
	if !c.Is(RoleAdmin, RoleSysAdmin, RoleTownAdmin) {
		return ImportResult{}, Forbidden()
	}
	if len(rows) == 0 {
		return ImportResult{}, &ImportError{Rows: []RowError{{Line: 1, Field: "file", Code: FieldRequired, Message: "the file has no rows"}}}
	}
	if len(rows) > MaxImportRows {
		return ImportResult{}, &ImportError{Rows: []RowError{{Line: MaxImportRows + 1, Field: "file", Code: FieldRange,
			Message: fmt.Sprintf("a file may hold at most %d rows", MaxImportRows)}}}
	}
	towns := map[string]Town{}
	var bad []RowError
	add := func(line int, field, code, msg string) {
		bad = append(bad, RowError{Line: line, Field: field, Code: code, Message: msg})
	}
	type key struct{ town, name string }
	seen := map[key]int{}
	kinds := make([]VillageKind, len(rows))
	for i := range rows {
		r := &rows[i]
		r.Town, r.Village, r.Code = strings.TrimSpace(r.Town), strings.TrimSpace(r.Village), strings.TrimSpace(r.Code)
		if r.Town == "" {
			add(r.Line, "town", FieldRequired, "town is required")
		} else if _, ok := towns[r.Town]; !ok {
			t, err := s.Store.TownByName(ctx, r.Town)
			switch {
			case err == nil && canWriteTown(c, t.ID):
				towns[r.Town] = t
			case err == nil || errors.Is(err, ErrNotFound):
				add(r.Line, "town", FieldUnknown, "no such town in your scope: "+r.Town)
			default:
				return ImportResult{}, fmt.Errorf("import villages: %w", err)
			}
		}
		if r.Village == "" {
			add(r.Line, "village", FieldRequired, "village is required")
		} else if len([]rune(r.Village)) > maxName {
			add(r.Line, "village", FieldTooLong, fmt.Sprintf("village must be at most %d characters", maxName))
		}
		k, ok := ParseVillageKind(r.Kind)
		if !ok {
			add(r.Line, "kind", FieldInvalid, "kind must be village (村) or community (居)")
		}
		kinds[i] = k
		if len([]rune(r.Code)) > maxCode {
			add(r.Line, "code", FieldTooLong, fmt.Sprintf("code must be at most %d characters", maxCode))
		}
		if r.Town != "" && r.Village != "" {
			kk := key{r.Town, r.Village}
			if first, dup := seen[kk]; dup {
				add(r.Line, "village", FieldTaken, fmt.Sprintf("the same village is on row %d", first))
			} else {
				seen[kk] = r.Line
			}
		}
	}
	if len(bad) > 0 {
		return ImportResult{}, &ImportError{Rows: bad}
	}

	existing := map[key]Village{}
	townIDs := make([]string, 0, len(towns))
	for _, t := range towns {
		townIDs = append(townIDs, t.ID)
	}
	p := Page{Limit: MaxPageLimit}
	for {
		l, err := s.Store.ListVillages(ctx, VillageFilter{Scope: Scope{TownIDs: townIDs}}, p)
		if err != nil {
			return ImportResult{}, fmt.Errorf("import villages: %w", err)
		}
		for _, v := range l.Items {
			existing[key{v.TownID, v.Name}] = v
		}
		if l.Next == "" {
			break
		}
		p.After = l.Next
	}

	var res ImportResult
	for i, r := range rows {
		t := towns[r.Town]
		now := s.Now()
		if v, ok := existing[key{t.ID, r.Village}]; ok {
			if v.Kind == kinds[i] && v.Code == r.Code {
				res.Unchanged++
				continue
			}
			v.Kind, v.Code, v.UpdatedAt = kinds[i], r.Code, now
			if err := s.Store.UpdateVillage(ctx, v); err != nil {
				return res, fmt.Errorf("import villages: row %d: %w", r.Line, err)
			}
			res.Updated++
			if err := s.Audit.Record(ctx, c, "village", v.ID, "import", v.TownID); err != nil {
				return res, err
			}
			continue
		}
		v := Village{ID: s.IDs.New(now), Name: r.Village, TownID: t.ID, Kind: kinds[i], Code: r.Code, CreatedAt: now, UpdatedAt: now}
		if err := s.Store.InsertVillage(ctx, v); err != nil {
			return res, fmt.Errorf("import villages: row %d: %w", r.Line, err)
		}
		res.Created++
		if err := s.Audit.Record(ctx, c, "village", v.ID, "import", v.TownID); err != nil {
			return res, err
		}
	}
	return res, nil
}
