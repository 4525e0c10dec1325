package models_test

import (
	"context"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// TestImportJSONMemory reports the peak heap of an import of a generated
// document streamed through a pipe (never held whole), for finding where
// an import's memory goes: OPENLSC_IMPORT_MEM_SIZE=AGREEMENTSxKEYS_PER
// (such as 100000x1) runs it, and OPENLSC_IMPORT_MEM_PROFILE=FILE writes
// a heap profile taken at the highest heap seen.
func TestImportJSONMemory(t *testing.T) {
	size := os.Getenv("OPENLSC_IMPORT_MEM_SIZE")
	if size == "" {
		t.Skip("set OPENLSC_IMPORT_MEM_SIZE=AGREEMENTSxKEYS_PER, such as 100000x1")
	}
	a, k, _ := strings.Cut(size, "x")
	agreements, err1 := strconv.Atoi(a)
	keysPer, err2 := strconv.Atoi(k)
	if err1 != nil || err2 != nil {
		t.Fatalf("OPENLSC_IMPORT_MEM_SIZE=%q is not AGREEMENTSxKEYS_PER", size)
	}
	s := modelstest.New(t)
	r, w := io.Pipe()
	go func() { w.CloseWithError(modelstest.WriteLargeImport(w, agreements, keysPer)) }()
	runtime.GC()
	var peak atomic.Uint64
	done := make(chan struct{})
	sampled := make(chan struct{})
	profile := os.Getenv("OPENLSC_IMPORT_MEM_PROFILE")
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load()+peak.Load()/20 {
				peak.Store(ms.HeapInuse)
				if profile != "" {
					writeHeapProfile(t, profile)
				}
			}
		}
	}()
	start := time.Now()
	res, err := s.ImportJSON(context.Background(), r, models.ImportOptions{Actor: cli})
	close(done)
	<-sampled
	if err != nil {
		t.Fatal(err)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("%s: %d agreements and %d keys created in %s; peak heap in use %d MiB, heap obtained from the OS %d MiB",
		size, res.Agreements.Created, res.Keys.Created, time.Since(start).Round(100*time.Millisecond), peak.Load()>>20, ms.HeapSys>>20)
}

func writeHeapProfile(t *testing.T, name string) {
	f, err := os.Create(name)
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		t.Error(err)
	}
}
