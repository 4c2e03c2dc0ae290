package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"zhucun/domain"
)

// where builds a WHERE clause from conditions on our own column names;
// every value is a parameter, never text in the query.
type where struct {
	parts []string
	args  []any
}

// eq adds col = v, unless v is the zero value (no filter).
func (w *where) eq(col string, v any) *where {
	switch x := v.(type) {
	case string:
		if x == "" {
			return w
		}
	case int:
		if x == 0 {
			return w
		}
	}
	w.parts = append(w.parts, col+" = ?")
	w.args = append(w.args, v)
	return w
}

// in adds col IN (vals); an empty list matches nothing.
func (w *where) in(col string, vals []string) *where {
	if len(vals) == 0 {
		w.parts = append(w.parts, "0")
		return w
	}
	w.parts = append(w.parts, col+" IN ("+marks(len(vals))+")")
	for _, v := range vals {
		w.args = append(w.args, v)
	}
	return w
}

// raw adds a condition written here with its parameters.
func (w *where) raw(cond string, args ...any) *where {
	w.parts = append(w.parts, cond)
	w.args = append(w.args, args...)
	return w
}

// contains adds a case-sensitive substring match.
func (w *where) contains(col, s string) *where {
	if s == "" {
		return w
	}
	return w.raw("instr("+col+", ?) > 0", s)
}

// scope adds a scope: the row's own id, or its town, in the scope's lists.
// The zero scope matches nothing. townCol may name a column or a subquery
// condition taking the towns ("" when the row has no town).
func (w *where) scope(sc domain.Scope, idCol, townCol string) *where {
	if sc.All {
		return w
	}
	var or []string
	if len(sc.IDs) > 0 {
		or = append(or, idCol+" IN ("+marks(len(sc.IDs))+")")
		for _, v := range sc.IDs {
			w.args = append(w.args, v)
		}
	}
	if len(sc.TownIDs) > 0 && townCol != "" {
		or = append(or, townCol+" IN ("+marks(len(sc.TownIDs))+")")
		for _, v := range sc.TownIDs {
			w.args = append(w.args, v)
		}
	}
	if len(or) == 0 {
		w.parts = append(w.parts, "0")
		return w
	}
	w.parts = append(w.parts, "("+strings.Join(or, " OR ")+")")
	return w
}

func (w *where) sql() string {
	if len(w.parts) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.parts, " AND ")
}

func marks(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// encode is the JSON of a stored document.
func encode(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode: %w", err)
	}
	return string(b), nil
}

// decodeRows reads rows of one doc column into T.
func decodeRows[T any](rows *sql.Rows) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, err
		}
		var v T
		if err := json.Unmarshal([]byte(doc), &v); err != nil {
			return nil, fmt.Errorf("decode: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// getDoc reads the doc of the one row a query finds; ErrNotFound if none.
func getDoc[T any](ctx context.Context, s *Store, what, q string, args ...any) (T, error) {
	var v T
	err := s.read(ctx, func(ctx context.Context, db querier) error {
		var doc string
		if err := db.QueryRowContext(ctx, q, args...).Scan(&doc); err != nil {
			return err
		}
		return json.Unmarshal([]byte(doc), &v)
	})
	if err != nil {
		return v, fmt.Errorf("%s: %w", what, err)
	}
	return v, nil
}

// allDocs reads the docs of every row a query finds.
func allDocs[T any](ctx context.Context, s *Store, what, q string, args ...any) ([]T, error) {
	var out []T
	err := s.read(ctx, func(ctx context.Context, db querier) error {
		rows, err := db.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		out, err = decodeRows[T](rows)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// page reads one page of a table's docs in the order of keyCol (ids are
// time-ordered), after the page's cursor; key gives an item's cursor.
func page[T any](ctx context.Context, s *Store, table, keyCol string, w *where, p domain.Page, key func(T) string) (domain.List[T], error) {
	return pageOrdered(ctx, s, table, keyCol, false, w, p, key)
}

// pageDesc is page newest first: in the reverse order of keyCol.
func pageDesc[T any](ctx context.Context, s *Store, table, keyCol string, w *where, p domain.Page, key func(T) string) (domain.List[T], error) {
	return pageOrdered(ctx, s, table, keyCol, true, w, p, key)
}

func pageOrdered[T any](ctx context.Context, s *Store, table, keyCol string, desc bool, w *where, p domain.Page, key func(T) string) (domain.List[T], error) {
	limit := p.Limit
	if limit <= 0 || limit > domain.MaxPageLimit {
		limit = domain.DefaultPageLimit
	}
	cmp, order := " > ?", ""
	if desc {
		cmp, order = " < ?", " DESC"
	}
	if p.After != "" {
		w.raw(keyCol+cmp, p.After)
	}
	q := "SELECT doc FROM " + table + w.sql() + " ORDER BY " + keyCol + order + " LIMIT ?"
	items, err := allDocs[T](ctx, s, "list "+table, q, append(w.args, limit+1)...)
	if err != nil {
		return domain.List[T]{}, err
	}
	out := domain.List[T]{Items: items}
	if out.Items == nil {
		out.Items = []T{}
	}
	if len(items) > limit {
		out.Items = items[:limit]
		out.Next = key(items[limit-1])
	}
	return out, nil
}

// changed reports an UPDATE's effect: ErrNotFound when it touched no row.
func changed(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return domain.ErrNotFound
	}
	return nil
}

// replaceVersioned updates a doc whose stored version is version-1:
// ErrStale when another version is stored, ErrNotFound when none is.
func replaceVersioned(t *wtx, table, keyWhere string, keyArgs []any, version int, set string, setArgs ...any) error {
	res, err := t.exec("UPDATE "+table+" SET "+set+" WHERE "+keyWhere+" AND json_extract(doc, '$.Version') = ?",
		append(append(setArgs, keyArgs...), version-1)...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	var one int
	if err := t.queryRow("SELECT 1 FROM "+table+" WHERE "+keyWhere, keyArgs...).Scan(&one); err != nil {
		return err // ErrNoRows: not found
	}
	return domain.ErrStale
}
