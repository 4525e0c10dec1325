package app_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/openlsc/openlsc/app"
	mailer "github.com/openlsc/openlsc/mail"
	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

const keyNew = "N7QXR-2V8KD-PJ4WT-9HCMY-B3K6F"

// renderOutbox renders every key status mail of the outbox, by recipient.
func (f *keysFixture) keyStatusMails() map[string]mailer.Rendered {
	f.t.Helper()
	r, err := mailer.NewRenderer()
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string]mailer.Rendered{}
	for _, m := range f.outbox() {
		if m.Template != mailer.TemplateKeyStatusChanged {
			continue
		}
		var data map[string]any
		dec := json.NewDecoder(strings.NewReader(m.Data))
		dec.UseNumber()
		if err := dec.Decode(&data); err != nil {
			f.t.Fatal(err)
		}
		rendered, err := r.Render(mailer.Message{To: m.Recipient, Language: m.Language, Template: m.Template, Data: data}, "lsc@example.com", m.ID)
		if err != nil {
			f.t.Fatal(err)
		}
		out[m.Recipient] = rendered
	}
	return out
}

func TestBlockLeakedMAKAndReplace(t *testing.T) {
	t.Logf("database: %s", modelstest.Name())
	f := newKeysFixture(t)
	if err := f.store.DB().Model(&models.User{}).Where("id = ?", f.users["reader"]).Update("language", "ja").Error; err != nil {
		t.Fatal(err)
	}
	v1, mak := f.lic["V1"], f.keyID("WFP4D")
	block := app.KeyStatusInput{Status: models.KeyBlocked, Reason: models.BlockLeaked, Note: "Offered on an auction site.", ReplacementKey: keyNew}

	t.Run("OperatorsOnly", func(t *testing.T) {
		for _, who := range []string{"admin", "reader", "stranger"} {
			if _, err := f.keys.SetKeyStatus(f.ctx, f.users[who], mak, block); !errors.Is(err, app.ErrOperatorsOnly) {
				t.Errorf("%s: %v", who, err)
			}
		}
	})
	t.Run("ReasonRequired", func(t *testing.T) {
		_, err := f.keys.SetKeyStatus(f.ctx, f.users["operator"], mak, app.KeyStatusInput{Status: models.KeyBlocked})
		if models.ErrorCode(err) != models.CodeInvalid {
			t.Errorf("no reason: %v", err)
		}
		_, err = f.keys.SetKeyStatus(f.ctx, f.users["operator"], mak, app.KeyStatusInput{Status: models.KeyBlocked, Reason: models.BlockFraud, ReplacementKey: keyMAK})
		if models.ErrorCode(err) != models.CodeInvalid {
			t.Errorf("the same key as its own replacement: %v", err)
		}
		if got := f.events(app.AuditKeyStatus); len(got) != 0 {
			t.Errorf("refused changes audited: %v", got)
		}
	})

	res, err := f.keys.SetKeyStatus(f.ctx, f.users["operator"], mak, block)
	if err != nil {
		t.Fatal(err)
	}
	if res.Key.Status != models.KeyBlocked || res.Key.BlockReason != models.BlockLeaked || res.Replacement == nil ||
		res.Replacement.Suffix != "B3K6F" || res.Replacement.Replaces != app.MaskKey("WFP4D") || res.Replacement.Limit() != 500 || res.Replacement.Used() != 0 {
		t.Fatalf("result %+v / %+v", res.Key, res.Replacement)
	}
	if _, err := f.keys.SetKeyStatus(f.ctx, f.users["operator"], mak, app.KeyStatusInput{Status: models.KeyBlocked, Reason: models.BlockLeaked}); models.ErrorCode(err) != models.CodeConflict {
		t.Errorf("blocking twice: %v", err)
	}

	t.Run("KeyReaderSeesBoth", func(t *testing.T) {
		list, err := f.keys.List(f.ctx, f.users["reader"], v1)
		if err != nil {
			t.Fatal(err)
		}
		status := map[string]app.KeyView{}
		for _, k := range list {
			status[k.Suffix] = k
		}
		if k := status["WFP4D"]; !k.Blocked() || k.BlockReason != models.BlockLeaked {
			t.Errorf("old key %+v", k)
		}
		if k := status["B3K6F"]; !k.Active() || k.Replaces != app.MaskKey("WFP4D") {
			t.Errorf("replacement %+v", k)
		}
	})
	t.Run("BlockedNotRevealed", func(t *testing.T) {
		if key, err := f.keys.Reveal(f.ctx, f.users["reader"], v1, mak, "192.0.2.1"); !errors.Is(err, app.ErrKeyBlocked) || key != "" {
			t.Errorf("reveal blocked: %q %v", key, err)
		}
		if key, err := f.keys.Reveal(f.ctx, f.users["reader"], v1, res.Replacement.ID, "192.0.2.1"); err != nil || key != keyNew {
			t.Errorf("reveal replacement: %q %v", key, err)
		}
		var buf bytes.Buffer
		if err := f.keys.WriteCSV(f.ctx, f.users["admin"], v1, true, "192.0.2.1", &buf); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(buf.String(), keyMAK) || !strings.Contains(buf.String(), keyNew) {
			t.Errorf("revealed export:\n%s", buf.String())
		}
		recs, _ := csv.NewReader(strings.NewReader(buf.String())).ReadAll()
		if recs[0][6] != "status" {
			t.Errorf("header %v", recs[0])
		}
		if key, err := f.keys.RevealForOperator(f.ctx, f.users["operator"], mak, "192.0.2.9"); err != nil || key != keyMAK {
			t.Errorf("operator reveal: %q %v", key, err)
		}
		if _, err := f.keys.RevealForOperator(f.ctx, f.users["admin"], mak, "192.0.2.9"); !errors.Is(err, app.ErrOperatorsOnly) {
			t.Errorf("admin as operator: %v", err)
		}
	})
	t.Run("NoActivationsForBlocked", func(t *testing.T) {
		if _, err := f.keys.RequestActivations(f.ctx, f.users["reader"], v1, "WFP4D", 10, "more PCs"); !errors.Is(err, app.ErrKeyNotActive) {
			t.Errorf("request on blocked key: %v", err)
		}
		if _, err := f.keys.RequestActivations(f.ctx, f.users["reader"], v1, "B3K6F", 10, "more PCs"); err != nil {
			t.Errorf("request on replacement: %v", err)
		}
	})
	t.Run("Audited", func(t *testing.T) {
		st, rep := f.events(app.AuditKeyStatus), f.events(app.AuditKeyReplaced)
		if len(st) != 1 || len(rep) != 1 {
			t.Fatalf("%d status events, %d replacement events", len(st), len(rep))
		}
		d := details(t, st[0])
		if d["from"] != "active" || d["to"] != "blocked" || d["reason"] != "leaked" || d["suffix"] != "WFP4D" || *st[0].ActorID != f.users["operator"] {
			t.Errorf("status event %v", d)
		}
		if d := details(t, rep[0]); d["replaces_suffix"] != "WFP4D" || d["suffix"] != "B3K6F" {
			t.Errorf("replacement event %v", d)
		}
		if strings.Contains(st[0].Details+rep[0].Details, keyNew) {
			t.Error("the new key is in the audit log")
		}
	})
	t.Run("MailInBothLanguages", func(t *testing.T) {
		mails := f.keyStatusMails()
		if len(mails) != 2 {
			t.Fatalf("mailed %v, want the administrator and the key reader", keysOf(mails))
		}
		en, ja := mails["admin@contoso.example"], mails["reader@contoso.example"]
		for _, want := range []string{"blocked", "V1", "WFP4D", "published or offered for sale", "B3K6F", "Offered on an auction site."} {
			if !strings.Contains(en.Subject+en.Text, want) {
				t.Errorf("English mail lacks %q:\n%s\n%s", want, en.Subject, en.Text)
			}
		}
		for _, want := range []string{"ブロック", "V1", "WFP4D", "販売", "B3K6F"} {
			if !strings.Contains(ja.Subject+ja.Text, want) {
				t.Errorf("Japanese mail lacks %q:\n%s\n%s", want, ja.Subject, ja.Text)
			}
		}
		for _, m := range mails {
			if strings.Contains(m.Text+m.HTML, keyNew) || strings.Contains(m.Text+m.HTML, keyMAK) {
				t.Error("a whole key is in the mail")
			}
		}
	})
}

func keysOf[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestMAKLimitReached(t *testing.T) {
	f := newKeysFixture(t)
	mak := f.keyID("WFP4D")
	if _, err := f.keys.SetActivationCounts(f.ctx, f.users["operator"], mak, i64(500), nil, t0); err != nil {
		t.Fatal(err)
	}
	list, err := f.keys.List(f.ctx, f.users["reader"], f.lic["V1"])
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range list {
		if k.Suffix == "WFP4D" && !k.LimitReached {
			t.Errorf("500 of 500 used: %+v", k)
		}
		if k.Suffix != "WFP4D" && k.LimitReached {
			t.Errorf("%s: limit reached", k.Suffix)
		}
	}
}

// TestKeyBlockedOnceAtATime: two operators block the same key at once,
// 50 times: one wins, the other is told of the conflict, and one status
// event is written per round.
func TestKeyBlockedOnceAtATime(t *testing.T) {
	f := newKeysFixture(t)
	mak := f.keyID("WFP4D")
	ops := []int64{f.users["operator"], f.users["operator"]}
	for round := range 50 {
		target := models.KeyBlocked
		if round%2 == 1 {
			target = models.KeyActive
		}
		in := app.KeyStatusInput{Status: target}
		if target == models.KeyBlocked {
			in.Reason = models.BlockFraud
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, len(ops))
		for i, op := range ops {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = f.keys.SetKeyStatus(f.ctx, op, mak, in)
			}()
		}
		close(start)
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case models.ErrorCode(err) != models.CodeConflict:
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if ok != 1 {
			t.Fatalf("round %d: %d changes succeeded (%v)", round, ok, errs)
		}
	}
	if n := len(f.events(app.AuditKeyStatus)); n != 50 {
		t.Errorf("%d status events, want 50", n)
	}
}
