package frontend

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/openlsc/openlsc/api/httperr"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/models"
)

// OperatorDesk is what the operators' pages ask of the application
// (*app.Operators).
type OperatorDesk interface {
	Unadministered(ctx context.Context, operator int64, limit int) ([]app.Unadministered, error)
	Appoint(ctx context.Context, operator int64, licence, email string) error
	Search(ctx context.Context, operator int64, q string) (*app.SearchResult, error)
	Import(ctx context.Context, operator int64, doc *models.ImportDocument, dryRun bool, source string) (*models.ImportResult, error)
}

var _ OperatorDesk = (*app.Operators)(nil)

// maxImportDocument bounds an import document uploaded through the web
// page. (The API takes larger ones; the command line any size.)
const maxImportDocument = 16 << 20

// maxImportRequest bounds the whole request of an upload or an apply: the
// apply form carries the document in base64, a third larger, plus fields.
const maxImportRequest = maxImportDocument/3*4 + 1<<20

// MountOperator registers the operators' pages:
//
//	GET  /operator                              licences without administrator with their failed requests, search (?q=)
//	POST /operator/licences/:licence/appoint    appoint the first administrator (email)
//	GET  /operator/import                       upload an import document
//	POST /operator/import                       validate it (dry run) and show the report
//	POST /operator/import?apply=1               apply the document of the report
//
// isOperator tells operators (such as (*authz.Authorizer).IsOperator);
// everyone else gets the 403 page, and the application checks again.
func (u *UI) MountOperator(r gin.IRouter, ops OperatorDesk, isOperator func(user int64) bool) {
	h := operatorPage{ui: u, ops: ops, isOperator: isOperator}
	r.GET("/operator", u.page(h.show))
	r.POST("/operator/licences/:licence/appoint", h.appoint)
	r.GET("/operator/import", u.page(h.importForm))
	r.POST("/operator/import", h.importDocument)
}

type operatorPage struct {
	ui         *UI
	ops        OperatorDesk
	isOperator func(user int64) bool
}

// operator returns the signed-in operator, or answers the request (sign in
// first, or 403) and reports false.
func (h operatorPage) operator(c *gin.Context) (int64, bool) {
	user, _, ok := h.ui.signedIn(c)
	if !ok {
		return 0, false
	}
	if !h.isOperator(user) {
		h.ui.errorPage(c, http.StatusForbidden, "operator.only")
		return 0, false
	}
	return user, true
}

// operatorView is the data of operator.html.
type operatorView struct {
	Queue []queueEntry
	// The appoint notice or refusal.
	Appointed     string // licence number
	AppointedTo   string // email
	AppointFor    string // licence the refusal belongs to
	AppointEmail  string // the email given, echoed
	AppointError  string // message ID
	AppointDetail string // the application's explanation, when no message ID fits
	// Search.
	Query       string
	SearchError string // message ID
	Result      *app.SearchResult
}

type queueEntry struct {
	app.Unadministered
	ProgramID string // message ID of the program
	Failed    []failedEntry
}

type failedEntry struct {
	app.FailedView
	ReasonID string // message ID of the reason, "" to show it as it is
}

// programID is the message ID of a program's name.
func programID(p models.Program) string {
	switch p {
	case models.ProgramMBSA, models.ProgramEnterprise, models.ProgramSelectPlus, models.ProgramOpenValue, models.ProgramOpenLicense:
		return "operator.program." + string(p)
	}
	return "operator.program.other"
}

// reasonIDs are the message IDs of the failure reasons of access requests.
var reasonIDs = map[string]string{
	app.FailureUnknownLicence:  "operator.reason.unknown_licence",
	app.FailureWrongProgram:    "operator.reason.wrong_program",
	app.FailureWrongAuthNumber: "operator.reason.wrong_auth_number",
	app.FailureNoAdministrator: "operator.reason.no_administrator",
}

func (h operatorPage) show(c *gin.Context) {
	if _, ok := h.operator(c); !ok {
		return
	}
	v := operatorView{Query: c.Query("q")}
	if lic := c.Query("appointed"); lic != "" {
		v.Appointed, v.AppointedTo = lic, c.Query("to")
	}
	h.renderDesk(c, http.StatusOK, v)
}

// renderDesk runs the search of v.Query, if any, loads the queue and
// renders the operators' page.
func (h operatorPage) renderDesk(c *gin.Context, status int, v operatorView) {
	ctx := c.Request.Context()
	user, _ := app.UserID(ctx)
	if strings.TrimSpace(v.Query) != "" {
		res, err := h.ops.Search(ctx, user, v.Query)
		switch {
		case models.ErrorCode(err) == models.CodeInvalid:
			v.SearchError = "operator.search.too_short"
			if status == http.StatusOK {
				status = http.StatusUnprocessableEntity
			}
		case err != nil:
			h.ui.Error(c, httperr.Status(err), err)
			return
		default:
			v.Result = res
		}
	}
	list, err := h.ops.Unadministered(ctx, user, 0)
	if err != nil {
		h.ui.Error(c, httperr.Status(err), err)
		return
	}
	for _, un := range list {
		e := queueEntry{Unadministered: un, ProgramID: programID(un.Program)}
		for _, f := range un.FailedRequests {
			e.Failed = append(e.Failed, failedEntry{FailedView: f, ReasonID: reasonIDs[f.Reason]})
		}
		v.Queue = append(v.Queue, e)
	}
	h.ui.render(c, status, "operator.html", "operator", v)
}

func (h operatorPage) appoint(c *gin.Context) {
	user, ok := h.operator(c)
	if !ok {
		return
	}
	licence := c.Param("licence")
	email := strings.TrimSpace(c.PostForm("email"))
	err := h.ops.Appoint(c.Request.Context(), user, licence, email)
	if err == nil {
		q := url.Values{"appointed": {licence}, "to": {email}}
		c.Redirect(http.StatusSeeOther, "/operator?"+q.Encode())
		return
	}
	status := httperr.Status(err)
	if status >= 500 {
		h.ui.Error(c, status, err)
		return
	}
	v := operatorView{AppointFor: licence, AppointEmail: email}
	switch models.ErrorCode(err) {
	case models.CodeInvalid:
		v.AppointError = "operator.appoint.invalid_email"
	case models.CodeConflict:
		v.AppointError = "operator.appoint.has_admin"
	case models.CodeNotFound:
		v.AppointError = "operator.appoint.no_licence"
	default:
		v.AppointDetail = h.ui.errorText(c, err)
	}
	h.renderDesk(c, status, v)
}

// importView is the data of operator_import.html.
type importView struct {
	Report   *importReport
	Applied  bool
	Invalid  bool                // the document failed validation
	Message  string              // the application's summary of an invalid document
	Problems []models.FieldError // each problem with its JSON path
	ErrorID  string              // message ID of another refusal (too large, no file)
	// The document of a valid dry run, for the Apply form (see
	// importDocument).
	Document string // unpadded base64url
	SHA256   string // hex
	FileName string
}

// importReport is the counts table of an import.
type importReport struct {
	Rows []importRow
}

type importRow struct {
	LabelID                              string
	Created, Updated, Unchanged, Removed int64
}

func rowOf(kind string, n models.ImportCounts) importRow {
	return importRow{LabelID: "operator.import.kind." + kind,
		Created: int64(n.Created), Updated: int64(n.Updated), Unchanged: int64(n.Unchanged), Removed: int64(n.Removed)}
}

// importKinds are the rows of the report, in the order of the document.
var importKinds = []string{"organizations", "agreements", "contacts", "products", "versions", "files", "entitlements", "keys", "orders"}

func reportOf(res *models.ImportResult) *importReport {
	counts := []models.ImportCounts{res.Organizations, res.Agreements, res.Contacts, res.Products, res.Versions, res.Files, res.Entitlements, res.Keys, res.Orders}
	r := &importReport{}
	for i, k := range importKinds {
		r.Rows = append(r.Rows, rowOf(k, counts[i]))
	}
	return r
}

func (h operatorPage) importForm(c *gin.Context) {
	if _, ok := h.operator(c); !ok {
		return
	}
	v := importView{}
	if c.Query("applied") == "1" {
		v.Applied = true
		v.Report = parseReport(c.Request.URL.Query())
		v.SHA256 = c.Query("sha256")
	}
	h.ui.render(c, http.StatusOK, "operator_import.html", "operator-import", v)
}

// reportQuery writes the counts of an applied import into the query of the
// redirect (PRG): "organizations=created.updated.unchanged.removed"...
func reportQuery(q url.Values, r *importReport) {
	for i, row := range r.Rows {
		q.Set(importKinds[i], fmt.Sprintf("%d.%d.%d.%d", row.Created, row.Updated, row.Unchanged, row.Removed))
	}
}

// parseReport reads the counts that reportQuery wrote; a missing or
// malformed entry counts as zero.
func parseReport(q url.Values) *importReport {
	r := &importReport{}
	for _, k := range importKinds {
		var n [4]int
		for i, s := range strings.SplitN(q.Get(k), ".", 4) {
			n[i], _ = strconv.Atoi(s)
			n[i] = max(n[i], 0)
		}
		r.Rows = append(r.Rows, rowOf(k, models.ImportCounts{Created: n[0], Updated: n[1], Unchanged: n[2], Removed: n[3]}))
	}
	return r
}

// importDocument validates an uploaded document (a dry run) and shows the
// report, or applies the document of a report (?apply=1).
//
// Between the two steps the document travels in the page: the report's
// Apply form carries it as a hidden field (unpadded base64url, which HTML
// escaping leaves alone) with its SHA-256, and posts it back. The service
// runs as several instances behind a load balancer with no shared place
// for uploads but the database, and nothing the browser sends is trusted:
// applying validates the whole document again, and the hash only makes
// sure the operator applies the very document the report was about
// (the report page shows it). Documents are capped at 16 MiB here, so a
// report page stays a few tens of MiB at worst; larger imports go through
// the API or `openlsc import`.
func (h operatorPage) importDocument(c *gin.Context) {
	user, ok := h.operator(c)
	if !ok {
		return
	}
	apply := c.Query("apply") == "1"
	if c.Request.ContentLength > maxImportRequest {
		h.importRefused(c, http.StatusRequestEntityTooLarge, "operator.import.too_large")
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxImportRequest)
	if err := c.Request.ParseMultipartForm(maxImportDocument); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.importRefused(c, http.StatusRequestEntityTooLarge, "operator.import.too_large")
			return
		}
		h.importRefused(c, http.StatusBadRequest, "operator.import.no_file")
		return
	}
	defer func() { _ = c.Request.MultipartForm.RemoveAll() }()

	data, name, ok := h.uploadedDocument(c, apply)
	if !ok {
		return
	}
	sum := sha256.Sum256(data)
	v := importView{SHA256: hex.EncodeToString(sum[:]), FileName: name}

	doc, err := models.DecodeImport(bytes.NewReader(data))
	var res *models.ImportResult
	if err == nil {
		res, err = h.ops.Import(c.Request.Context(), user, doc, !apply, c.ClientIP())
	}
	var e *models.Error
	switch {
	case errors.As(err, &e) && e.Code == models.CodeInvalid:
		v.Invalid, v.Message, v.Problems = true, h.ui.errorText(c, err), h.ui.fieldTexts(c, e.Fields)
		h.ui.render(c, http.StatusUnprocessableEntity, "operator_import.html", "operator-import", v)
		return
	case err != nil:
		h.ui.Error(c, httperr.Status(err), err)
		return
	}
	v.Report = reportOf(res)
	if apply {
		q := url.Values{"applied": {"1"}, "sha256": {v.SHA256}}
		reportQuery(q, v.Report)
		c.Redirect(http.StatusSeeOther, "/operator/import?"+q.Encode())
		return
	}
	v.Document = base64.RawURLEncoding.EncodeToString(data)
	h.ui.render(c, http.StatusOK, "operator_import.html", "operator-import", v)
}

// uploadedDocument reads the import document of the request and its file
// name: the uploaded file, or with apply the document the report page sent
// back (checked against its SHA-256). It answers and reports false when
// there is none or it is refused.
func (h operatorPage) uploadedDocument(c *gin.Context, apply bool) (data []byte, name string, ok bool) {
	if apply {
		var err error
		data, err = base64.RawURLEncoding.DecodeString(c.Request.PostFormValue("document"))
		sum := sha256.Sum256(data)
		want, _ := hex.DecodeString(c.Request.PostFormValue("sha256"))
		if err != nil || len(data) == 0 || subtle.ConstantTimeCompare(sum[:], want) != 1 {
			h.importRefused(c, http.StatusBadRequest, "operator.import.changed")
			return nil, "", false
		}
		name = c.Request.PostFormValue("file_name")
	} else {
		fh, err := c.FormFile("document")
		if err != nil {
			h.importRefused(c, http.StatusBadRequest, "operator.import.no_file")
			return nil, "", false
		}
		name = fh.Filename
		if fh.Size > maxImportDocument {
			h.importRefused(c, http.StatusRequestEntityTooLarge, "operator.import.too_large")
			return nil, "", false
		}
		f, err := fh.Open()
		if err != nil {
			h.ui.Error(c, http.StatusInternalServerError, err)
			return nil, "", false
		}
		data, err = io.ReadAll(io.LimitReader(f, maxImportDocument+1))
		_ = f.Close()
		if err != nil {
			h.ui.Error(c, http.StatusInternalServerError, err)
			return nil, "", false
		}
		if len(data) > maxImportDocument {
			h.importRefused(c, http.StatusRequestEntityTooLarge, "operator.import.too_large")
			return nil, "", false
		}
	}
	if err := models.CheckLine("file_name", name, 255); err != nil { // the free-text rule
		h.ui.Error(c, http.StatusUnprocessableEntity, err)
		return nil, "", false
	}
	return data, name, true
}

// importRefused shows the upload form again with why the upload was refused.
func (h operatorPage) importRefused(c *gin.Context, status int, msgID string) {
	h.ui.render(c, status, "operator_import.html", "operator-import", importView{ErrorID: msgID})
}
