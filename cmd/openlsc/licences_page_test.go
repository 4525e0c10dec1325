package main

import (
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openlsc/openlsc/models/modelstest"
)

// TestLargeTreePage: on the real server, the My licences page of an
// administrator who inherits an MBSA of 450 enrollments shows the MBSA
// with its first 20 licences and a link to all of them; that list comes
// 200 a page, linked by cursor, every licence once and in order; and the
// JSON summary collapsed says how many there are. Both databases.
func TestLargeTreePage(t *testing.T) {
	const enrollments = 450
	m, base := startBenchServer(t, modelstest.URL(t))
	ds := generateBenchData(t, m, benchHTTPSize{agreements: enrollments + 3, enrollments: enrollments, users: 2, grants: 2,
		products: 1, bigKeys: 2, bigUsers: 1, heavy: 1, duration: time.Second, conns: []int{1}})
	page := func(path string) string {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.AddCookie(&http.Cookie{Name: "openlsc_session", Value: ds.admin.cookie})
		req.Header.Set("Accept", "text/html")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %v", path, resp.StatusCode, err)
		}
		return string(b)
	}
	licence := regexp.MustCompile(`href="/licences/(E\d+)"`)
	next := regexp.MustCompile(`href="/licences\?under=M000000&amp;after=(E\d+)"`)

	body := page("/licences")
	if got := licence.FindAllStringSubmatch(body, -1); len(got) != 20 || got[0][1] != "E000001" ||
		!strings.Contains(body, `href="/licences?under=M000000"`) || !strings.Contains(body, "450") {
		t.Fatalf("summary shows %d licences under the MBSA:\n%.3000s", len(got), body)
	}
	var seen []string
	path := "/licences?under=M000000"
	for range 5 {
		body = page(path)
		got := licence.FindAllStringSubmatch(body, -1)
		if len(got) > 200 {
			t.Fatalf("%s shows %d licences", path, len(got))
		}
		for _, g := range got {
			seen = append(seen, g[1])
		}
		n := next.FindStringSubmatch(body)
		if n == nil {
			break
		}
		path = "/licences?under=M000000&after=" + n[1]
	}
	increasing := slices.IsSorted(seen)
	if len(seen) != enrollments || !increasing || len(slices.Compact(slices.Clone(seen))) != enrollments {
		t.Errorf("the pages show %d licences (in order, once each: %v)", len(seen), increasing)
	}

	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/licences?collapsed=true", nil)
	req.Header.Set("Authorization", "Bearer "+ds.admin.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"number":"M000000"`) || !strings.Contains(string(b), `"children_count":450`) ||
		strings.Contains(string(b), `"children":`) {
		t.Errorf("collapsed summary: %d %.500s", resp.StatusCode, b)
	}
}
