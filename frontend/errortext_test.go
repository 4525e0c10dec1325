package frontend

import (
	"context"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// importError returns the error of a real import whose agreement names a
// parent that does not exist and whose name holds a direction override.
func importError(t *testing.T) error {
	t.Helper()
	s := modelstest.New(t)
	doc := &models.ImportDocument{
		Organizations: []models.ImportOrganization{{Number: "ORG-1", Name: "Contoso"}},
		Agreements: []models.ImportAgreement{
			{Program: "enterprise", Number: "E-1", Organization: "ORG-1", Parent: "NOPE"},
			{Program: "enterprise", Number: "E-2", Organization: "ORG-1", Name: "bad\u202ename"},
		},
	}
	_, err := s.Import(context.Background(), doc, models.ImportOptions{Actor: models.Actor{Label: "cli"}, DryRun: true})
	if models.ErrorCode(err) != models.CodeInvalid {
		t.Fatalf("import: %v, want invalid", err)
	}
	return err
}

// TestErrorsInJapanese shows a representative set of the application's
// errors on Japanese pages: each in Japanese, translated by its key, with
// no English sentence, and field paths kept.
func TestErrorsInJapanese(t *testing.T) {
	s := newTestServer(t, Options{})
	until := time.Date(2026, 12, 1, 1, 5, 0, 0, time.UTC)
	tokenLimit := models.New(models.CodeConflict, "err.token.limit", "You have 10 active tokens, the most allowed; revoke one first.").With(models.Args{"Count": 10})
	locked := models.New(models.CodeTooMany, "err.request.locked", "Too many access requests failed. Try again after 1 December 2026, 01:05 UTC, or contact support.").With(models.Args{"Until": until})
	textErr := models.CheckLine("name", "a\u202eb", 0)
	imported := importError(t)
	cases := []struct {
		name   string
		status int
		err    error
		wants  []string
	}{
		{"request failed", 422, app.ErrRequestFailed, []string{"アクセス要求に失敗しました"}},
		{"lockout", 429, locked, []string{"2026年12月1日 01:05 (UTC) 以降にもう一度お試し"}},
		{"verify first", 403, app.ErrVerifyFirst, []string{"まず勤務先メール アドレスを確認してください。"}},
		{"link invalid", 404, app.ErrLinkInvalid, []string{"この確認リンクは無効です。"}},
		{"link expired", 400, app.ErrLinkExpired, []string{"有効期限が切れています"}},
		{"link used", 409, app.ErrLinkUsed, []string{"この確認リンクは使用済みです。"}},
		{"other identity", 403, app.ErrLinkOtherIdentity, []string{"別のアカウントでサインイン"}},
		{"email taken", 409, app.ErrEmailTaken, []string{"別のサインインで確認済み"}},
		{"email invalid", 400, func() error { _, err := app.ValidateEmail("nope"); return err }(), []string{"<code>email</code>: メール アドレスではありません"}},
		{"last administrator", 409, authz.ErrLastAdministrator, []string{"最後の管理者"}},
		{"contact grant", 403, authz.ErrContactGrant, []string{"契約の連絡先データに基づく"}},
		{"inherited grant", 403, authz.ErrInheritedGrant, []string{"マスター契約 (MBSA) から継承"}},
		{"not allowed", 403, authz.ErrNotAllowed, []string{"この操作を行う権限がありません。"}},
		{"token limit", 409, tokenLimit, []string{"上限の 10 個"}},
		{"no such MAK", 400, app.ErrNoSuchMAK, []string{"この文字で終わる MAK はありません", "<code>key_suffix</code>: このライセンスの MAK"}},
		{"activation decided", 409, app.ErrActivationDecided, []string{"すでに判断済み"}},
		{"free text", 400, textErr, []string{"使用できない文字", "<code>name</code>: 2 文字目は文字の方向を変える文字 (U&#43;202E)"}},
		{"import", 400, imported, []string{"件の問題があります", "<code>agreements[0].parent</code>: 契約「NOPE」が見つかりません",
			"<code>agreements[1].name</code>: 4 文字目は文字の方向を変える文字"}},
		{"rate limit", 429, models.New(models.CodeTooMany, "err.rate_limited", "Too many attempts. Wait a while and try again."), []string{"試行回数が多すぎます。"}},
		{"unkeyed", 409, models.Errorf(models.CodeConflict, "Some English sentence."), []string{"ほかの変更と競合しました。"}},
		{"unavailable", 503, models.New(models.CodeUnavailable, "err.busy", "The service is busy."), []string{"サービスは一時的に利用できません"}},
	}
	var errs []error
	for i, tc := range cases {
		errs = append(errs, tc.err)
		status := tc.status
		s.engine.GET("/fail/"+strconv.Itoa(i), func(c *gin.Context) { s.ui.Error(c, status, errs[i]) })
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := s.get(t, "/fail/"+strconv.Itoa(i), "Accept-Language: ja")
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d", rec.Code, tc.status)
			}
			body := rec.Body.String()
			mustContain(t, body, tc.wants...)
			var e *models.Error
			if errors.As(tc.err, &e) {
				mustNotContain(t, body, e.Message)
				for _, f := range e.Fields {
					if f.Message != "" {
						mustNotContain(t, body, f.Message)
					}
				}
			}
		})
	}
	t.Run("english keeps the text", func(t *testing.T) {
		rec := s.get(t, "/fail/0", "Accept-Language: en")
		mustContain(t, rec.Body.String(), "Access request failed.")
	})
}

// errKey is a message key of an error, as code writes it.
var errKey = regexp.MustCompile(`^err\.[a-z0-9_]+(\.[a-z0-9_]+)*$`)

// TestErrorKeysTranslated checks that every error message key the code
// uses, and every one built from parts, is in both locale files.
func TestErrorKeysTranslated(t *testing.T) {
	keys := map[string]string{}
	for _, dir := range []string{"../app", "../models", "../authz", "../api", "."} {
		paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range paths {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, src, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if s, err := strconv.Unquote(lit.Value); err == nil && errKey.MatchString(s) {
						keys[s] = path
					}
				}
				return true
			})
		}
	}
	if len(keys) < 80 {
		t.Fatalf("found only %d keys in the code; is the scan broken?", len(keys))
	}
	for _, c := range []models.Code{models.CodeInvalid, models.CodeNotFound, models.CodeConflict, models.CodeForbidden,
		models.CodeTooMany, models.CodeUnavailable, models.CodeInternal} {
		keys["err.code."+string(c)] = "errortext.go"
	}
	for _, kind := range []string{"not_utf8", "nul", "line_break", "control", "bidi_override", "bidi_isolate"} {
		keys["err.text."+kind] = "models/text.go"
		keys["err.text."+kind+"_in_name"] = "models/text.go"
	}
	for _, lang := range []string{"en", "ja"} {
		msgs := loadMessages(t, lang)
		for k, where := range keys {
			if _, ok := msgs[k]; !ok {
				t.Errorf("%s.json lacks %q (used in %s)", lang, k, where)
			}
		}
	}
}

// TestLockoutPageSaysUntil: the request form, locked, says until when in
// the page's language (UTC stated) and sends Retry-After.
func TestLockoutPageSaysUntil(t *testing.T) {
	env := newRequestEnv(t)
	until := time.Date(2026, 12, 1, 1, 5, 0, 0, time.UTC)
	e := models.New(models.CodeTooMany, "err.request.locked", "Too many access requests failed. Try again after 1 December 2026, 01:05 UTC, or contact support.").
		With(models.Args{"Until": until})
	e.RetryAfter = 10 * time.Minute
	env.req.submitErr = e
	defer func() { env.req.submitErr = nil }()
	for lang, want := range map[string]string{
		"ja": "2026年12月1日 01:05 (UTC) 以降にもう一度お試し",
		"en": "Try again after 1 December 2026, 01:05 UTC, or contact support.",
	} {
		rec := env.post(t, userVerified, lang, "/access-requests/new", url.Values{"program": {"enterprise"}})
		body := wantStatus(t, rec, http.StatusTooManyRequests)
		mustContain(t, body, `id="request-locked"`, want)
		if got := rec.Header().Get("Retry-After"); got != "600" {
			t.Errorf("%s: Retry-After %q, want 600", lang, got)
		}
	}
}
