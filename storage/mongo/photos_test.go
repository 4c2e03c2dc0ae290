package mongo

import (
	"context"
	"testing"
)

// reopen closes s and opens its database again, as a restart does.
func reopen(t *testing.T, s *Store) *Store {
	t.Helper()
	name := s.db.Name()
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(t.Context(), server.URI, name, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s2.Close(context.Background()) })
	return s2
}
