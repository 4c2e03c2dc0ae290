package zhucun

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestSecurityDocNamesRealTests: every test docs/security.md names for a
// control is a test (or fuzz target, or conformance case) in the tree, so
// the table cannot point at one that was renamed or removed.
func TestSecurityDocNamesRealTests(t *testing.T) {
	doc, err := os.ReadFile("docs/security.md")
	if err != nil {
		t.Fatal(err)
	}
	var src strings.Builder
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != "." || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if strings.HasSuffix(path, ".go") {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			src.Write(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	code := src.String()
	named := regexp.MustCompile("`(?:[a-z]+\\.)?((?:Test|Fuzz)[A-Za-z0-9]+)(?:/([A-Za-z]+))?`").FindAllStringSubmatch(string(doc), -1)
	if len(named) < 30 {
		t.Fatalf("docs/security.md names only %d tests", len(named))
	}
	// Each control row names at least one test.
	for _, line := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(line, "| **") && !strings.Contains(line, "`Test") && !strings.Contains(line, "`Fuzz") {
			t.Errorf("a control names no test: %.60s", line)
		}
	}
	for _, m := range named {
		if !strings.Contains(code, "func "+m[1]+"(") {
			t.Errorf("docs/security.md names %s, which is no test in the tree", m[1])
		}
		if m[2] != "" && !strings.Contains(code, `{"`+m[2]+`", `) {
			t.Errorf("docs/security.md names %s/%s, which is no case of the suite", m[1], m[2])
		}
	}
}
