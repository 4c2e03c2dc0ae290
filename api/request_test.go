package api

import "testing"

func TestHasNUL(t *testing.T) {
	for body, want := range map[string]bool{
		`{"notes":"a\u0000b"}`:   true,
		`{"notes":"\u0000"}`:     true,
		`{"notes":"a\\u0000b"}`:  false, // an escaped backslash, then the text u0000
		`{"notes":"a\\\u0000b"}`: true,  // an escaped backslash, then NUL
		`{"notes":"\u00001"}`:    true,
		`{"notes":"\u0001"}`:     false,
		`{"notes":"走访"}`:         false,
	} {
		if got := hasNUL([]byte(body)); got != want {
			t.Errorf("%s: %v, want %v", body, got, want)
		}
	}
}
