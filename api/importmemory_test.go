package api_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"
)

// bigImport is an import document of about size bytes: organizations,
// then a stray byte after the document, so that it is decoded whole and
// then refused without touching the database.
func bigImport(size int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"organizations": [`)
	for i := 0; b.Len() < size; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"number": "O%07d", "name": "Organization %07d"}`, i, i)
	}
	b.WriteString("]} x")
	return b.Bytes()
}

// peakHeap runs f and reports the most heap in use meanwhile, above what
// was in use before.
func peakHeap(f func()) uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapInuse, ms.HeapInuse
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	f()
	close(done)
	wg.Wait()
	return peak - base
}

// TestImportMemoryBounded uploads a large import as an operator once, then
// eight times at once: uploads are decoded one at a time, so eight in
// parallel take about the memory of one, not eight times it.
func TestImportMemoryBounded(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("uploads 9 large documents; under the race detector, slow and with memory figures that mean little")
	}
	env := newAuthEnv(t)
	op := env.person("op", "operator@contoso.example") // listed in Operators
	doc := bigImport(32 << 20)
	upload := func() {
		resp, err := op.Post(env.srv.URL+"/api/v1/operator/import?dry_run=true", "application/json", bytes.NewReader(doc))
		if err != nil {
			t.Error(err)
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("upload: %d %.300s", resp.StatusCode, b)
		}
	}
	one := peakHeap(upload)
	eight := peakHeap(func() {
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(upload)
		}
		wg.Wait()
	})
	t.Logf("peak heap for one %d MiB upload: %d MiB; for eight in parallel: %d MiB", len(doc)>>20, one>>20, eight>>20)
	if eight > 4*one {
		t.Errorf("eight parallel uploads took %d MiB, more than four times one (%d MiB)", eight>>20, one>>20)
	}
}
