package api

import "testing"

func TestPreferEnglish(t *testing.T) {
	for h, want := range map[string]bool{
		"":                         false,
		"en":                       true,
		"en-US,en;q=0.9":           true,
		"zh-CN,zh;q=0.9,en;q=0.8":  false,
		"en;q=0.5,zh;q=0.9":        false,
		"fr,en;q=0.3":              true,
		"fr":                       false,
		"en,zh":                    true,
		"zh,en":                    false,
		"en;q=0":                   false,
		"en;q=bogus,zh-Hans;q=0.1": false,
		"EN-gb;q=0.8, zh-TW;q=0.7": true,
	} {
		if got := preferEnglish(h); got != want {
			t.Errorf("preferEnglish(%q) = %v, want %v", h, got, want)
		}
	}
}
