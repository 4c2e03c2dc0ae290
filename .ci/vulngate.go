// Command vulngate reads govulncheck's JSON on stdin and fails when the
// code calls a vulnerable function of a module: those are fixed by
// upgrading the module in go.mod. Vulnerabilities of the Go standard
// library are listed, not failed: they are fixed by the Go that builds a
// release (the Dockerfile takes the newest 1.26 patch), not by this tree,
// and this machine's Go is what it is.
//
// Usage: govulncheck -format json ./... | go run .ci/vulngate.go
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
)

type message struct {
	Finding *struct {
		OSV          string `json:"osv"`
		FixedVersion string `json:"fixed_version"`
		Trace        []struct {
			Module   string `json:"module"`
			Version  string `json:"version"`
			Package  string `json:"package"`
			Function string `json:"function"`
		} `json:"trace"`
	} `json:"finding"`
}

func main() {
	dec := json.NewDecoder(os.Stdin)
	modules, stdlib := map[string]string{}, map[string]string{}
	for {
		var m message
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			fmt.Fprintln(os.Stderr, "vulngate: read govulncheck's output:", err)
			os.Exit(2)
		}
		f := m.Finding
		if f == nil || len(f.Trace) == 0 || f.Trace[0].Function == "" {
			continue // not called from our code
		}
		t := f.Trace[0]
		line := fmt.Sprintf("%s in %s@%s (%s.%s), fixed in %s", f.OSV, t.Module, t.Version, t.Package, t.Function, f.FixedVersion)
		if t.Module == "stdlib" || t.Module == "toolchain" {
			stdlib[f.OSV] = line
		} else {
			modules[f.OSV] = line
		}
	}
	for _, set := range []struct {
		name string
		m    map[string]string
	}{{"Go standard library (fixed by the Go that builds the release)", stdlib}, {"modules (upgrade them in go.mod)", modules}} {
		if len(set.m) == 0 {
			continue
		}
		fmt.Printf("called vulnerabilities of the %s:\n", set.name)
		ids := make([]string, 0, len(set.m))
		for id := range set.m {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			fmt.Println("  " + set.m[id])
		}
	}
	if len(modules) > 0 {
		fmt.Printf("vulngate: %d called vulnerabilities in modules\n", len(modules))
		os.Exit(1)
	}
	fmt.Printf("vulngate: no called vulnerability in a module (%d in the standard library of this Go)\n", len(stdlib))
}
