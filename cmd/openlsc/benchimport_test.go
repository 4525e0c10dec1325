package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// TestBenchImport is `make bench-import`: for each size in
// OPENLSC_BENCH_IMPORT_SIZES (AGREEMENTSxKEYS_PER_AGREEMENT, comma-separated;
// default 20000x5,200000x5, that is 100k and 1M keys) it writes a generated
// document (modelstest.WriteLargeImport) to a file, runs the openlsc binary
// named by OPENLSC_BENCH_BINARY on it against a new database (SQLite, or
// PostgreSQL when OPENLSC_TEST_DATABASE_URL is set) and prints the wall
// time, the CPU time and the peak resident memory of that process. With
// OPENLSC_BENCH_IMPORT_AGAIN set it imports the same document a second
// time into the database it filled ("filled": every record unchanged).
func TestBenchImport(t *testing.T) {
	bin := os.Getenv("OPENLSC_BENCH_BINARY")
	if bin == "" {
		t.Skip("set OPENLSC_BENCH_BINARY to an openlsc binary (make bench-import)")
	}
	sizes := os.Getenv("OPENLSC_BENCH_IMPORT_SIZES")
	if sizes == "" {
		sizes = "20000x5,200000x5"
	}
	var report strings.Builder
	fmt.Fprintf(&report, "openlsc import on %s\n%12s %10s %9s %9s %9s %10s %9s  %s\n", modelstest.Name(),
		"agreements", "keys", "doc MiB", "wall", "CPU", "records/s", "peak RSS", "database")
	for _, size := range strings.Split(sizes, ",") {
		agreements, keysPer := parseImportSize(t, size)
		doc := filepath.Join(t.TempDir(), "import.json")
		f, err := os.Create(doc)
		if err != nil {
			t.Fatal(err)
		}
		if err := modelstest.WriteLargeImport(f, agreements, keysPer); err != nil {
			t.Fatal(err)
		}
		st, _ := f.Stat()
		f.Close()
		url := modelstest.URL(t)
		modelstest.Open(t, url, models.Options{Keyring: modelstest.Keyring(t)}).Close() // migrated
		records := agreements/10 + 2*agreements + agreements*keysPer + 1
		runs := []string{"empty"}
		if os.Getenv("OPENLSC_BENCH_IMPORT_AGAIN") != "" {
			runs = append(runs, "filled")
		}
		for _, run := range runs {
			r := runImport(t, bin, doc, url)
			fmt.Fprintf(&report, "%12d %10d %9d %9s %9s %10d %6d MiB  %s\n", agreements, agreements*keysPer, st.Size()>>20,
				r.wall.Round(100*time.Millisecond), r.cpu.Round(100*time.Millisecond), int(float64(records)/r.wall.Seconds()), r.maxRSS>>20, run)
			t.Logf("%s, %s:\n%s", size, run, r.out)
		}
	}
	fmt.Print(report.String())
}

// importRun is what one run of openlsc import took.
type importRun struct {
	wall, cpu time.Duration
	maxRSS    int64 // bytes
	out       string
}

// runImport runs `bin import doc` on the database at url.
func runImport(t *testing.T, bin, doc, url string) importRun {
	t.Helper()
	cmd := exec.Command(bin, "import", doc)
	cmd.Env = append(os.Environ(), "OPENLSC_DATABASE_URL="+url, "OPENLSC_SECRET_KEY="+modelstest.Secret)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("import of %s: %v\n%s", doc, err, out.String())
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return importRun{
		wall: time.Since(start), cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(),
		maxRSS: ru.Maxrss << 10, out: out.String(),
	}
}

func parseImportSize(t *testing.T, s string) (agreements, keysPer int) {
	a, k, ok := strings.Cut(strings.TrimSpace(s), "x")
	var err1, err2 error
	agreements, err1 = strconv.Atoi(a)
	keysPer, err2 = strconv.Atoi(k)
	if !ok || err1 != nil || err2 != nil || agreements < 10 || keysPer < 1 {
		t.Fatalf("OPENLSC_BENCH_IMPORT_SIZES: %q is not AGREEMENTSxKEYS_PER_AGREEMENT such as 20000x5", s)
	}
	return agreements, keysPer
}
