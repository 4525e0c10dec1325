package frontend

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/openlsc/openlsc/api/httperr"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/models"
)

// LicenceAdmin is what the licence users page asks of the application
// (*app.Admin).
type LicenceAdmin interface {
	Users(ctx context.Context, admin, licence int64) ([]app.LicenceUser, error)
	AddUser(ctx context.Context, admin, licence int64, in app.AddUserInput) error
	SetPermissions(ctx context.Context, admin, licence, user int64, perms []models.Permission) error
	ResendInvitation(ctx context.Context, admin, licence, id int64) error
}

var _ LicenceAdmin = (*app.Admin)(nil)

// agreementNamer names agreements by id (*models.Store does). When the
// guard's licence resolver can, the "add a user" form offers the other
// licences the administrator administers as checkboxes; otherwise a text
// field takes their License IDs.
type agreementNamer interface {
	AgreementsByID(ctx context.Context, ids []int64) (map[int64]models.Agreement, error)
}

// Context keys the page guard sets.
const (
	keyInactive   = "openlsc.frontend.inactive"    // signed in, work email not confirmed
	keyActiveFail = "openlsc.frontend.active_fail" // the work email state could not be read
)

// maxLicenceChoices is the most other licences offered as checkboxes in
// the "add a user" form; beyond it a text field takes License IDs.
const maxLicenceChoices = 100

// LicenceGuard returns the guard for licence-scoped pages: the user is the
// signed-in user whose work email is confirmed (active reports that, such
// as (*app.Accounts).Active); someone signed out is sent to sign in,
// someone unconfirmed gets a 403 page asking to confirm the work email,
// and a licence that does not exist or that the user may not act on gets
// one and the same localized 404 page.
func (u *UI) LicenceGuard(az *authz.Authorizer, licences authz.LicenceResolver, active func(context.Context, int64) (bool, error)) authz.Guard {
	return authz.Guard{
		Authorizer: az,
		Licences:   licences,
		User: func(c *gin.Context) (int64, bool) {
			id, ok := app.UserID(c.Request.Context())
			if !ok {
				return 0, false
			}
			ok, err := active(c.Request.Context(), id)
			if err != nil {
				c.Set(keyActiveFail, err)
				return 0, false
			}
			if !ok {
				c.Set(keyInactive, true)
				return 0, false
			}
			return id, true
		},
		Fail: u.guardFail,
	}
}

// guardFail answers a request the licence guard refused.
func (u *UI) guardFail(c *gin.Context, err error) {
	if e, ok := c.Get(keyActiveFail); ok {
		err, _ := e.(error)
		u.Error(c, httperr.Status(err), fmt.Errorf("work email state: %w", err))
		return
	}
	switch {
	case !signedInRequest(c):
		c.Redirect(http.StatusSeeOther, "/signin?"+url.Values{"return_to": {c.Request.URL.RequestURI()}}.Encode())
		c.Abort()
	case c.GetBool(keyInactive),
		// A guard built elsewhere refuses a signed-in user (with "sign in
		// first") only when their work email is not confirmed.
		models.ErrorCode(err) == models.CodeForbidden && !errors.Is(err, authz.ErrNoSuchLicence):
		u.errorPage(c, http.StatusForbidden, "users.confirm_email")
	case errors.Is(err, authz.ErrNoSuchLicence):
		u.errorPage(c, http.StatusNotFound, "users.no_such_licence")
	default:
		u.Error(c, httperr.Status(err), err)
	}
}

// signedInRequest reports whether the request has a signed-in user.
func signedInRequest(c *gin.Context) bool {
	_, ok := app.UserID(c.Request.Context())
	return ok
}

// errorPage renders the error page for status with the localized message
// msgID.
func (u *UI) errorPage(c *gin.Context, status int, msgID string) {
	msg, err := u.i18n.translator(u.i18n.negotiate(c.Request), u.logger)(msgID)
	if err != nil {
		u.logger.ErrorContext(c.Request.Context(), "message missing", "id", msgID, "err", err)
	}
	u.render(c, status, "error.html", "", errorView{TitleID: errorTitleID(status), Message: msg, Generic: errorGenericID(status)})
	c.Abort()
}

// MountLicenceUsers registers the users page of a licence, for its
// administrators (guard, see LicenceGuard, lets only them through):
//
//	GET  /licences/:licence/users                    people, grants and their sources, invitations, "add a user"
//	POST /licences/:licence/users                    add a user (or invite them)
//	POST /licences/:licence/users/:user              set their direct permissions
//	POST /licences/:licence/users/:user/remove       remove their direct permissions
//	POST /licences/:licence/invitations/:id/resend   mail an invitation again
//
// Every POST redirects back to the page with a notice (PRG); a refused
// change shows the page again with the reason and the matching status.
// A guard without Fail gets the pages' answers of LicenceGuard.
func (u *UI) MountLicenceUsers(r gin.IRouter, admin LicenceAdmin, guard authz.Guard) {
	if guard.Fail == nil {
		guard.Fail = u.guardFail
	}
	h := usersPage{ui: u, admin: admin, guard: guard}
	if n, ok := guard.Licences.(agreementNamer); ok {
		h.names = n
	}
	g := r.Group("/licences/:licence", guard.Require(authz.ActManage, "licence"))
	g.GET("/users", u.page(h.show))
	g.POST("/users", h.add)
	g.POST("/users/:user", h.edit)
	g.POST("/users/:user/remove", h.remove)
	g.POST("/invitations/:id/resend", h.resend)
}

type usersPage struct {
	ui    *UI
	admin LicenceAdmin
	guard authz.Guard
	names agreementNamer // nil when the resolver cannot name agreements
}

// usersView is the data of licence_users.html.
type usersView struct {
	Licence     string // the licence number, as in the URL
	People      []personView
	Invitations []invitationView
	Done        string // message ID of the success notice, if any
	DoneEmail   string // the person the notice is about
	// An error of the last change: a message ID (or, for messages the page
	// has no translation for, the application's text) and where it
	// belongs: "add", a user id, or an invitation id.
	ErrorID   string
	ErrorText string
	ErrorAt   string
	Add       addForm
	Others    []licenceChoice // other administered licences, as checkboxes
	OtherText bool            // no list: a text field takes License IDs
	List      peopleList      // filter, order and page of People
}

// HasError reports whether the page shows a refused change.
func (v usersView) HasError() bool { return v.ErrorID != "" || v.ErrorText != "" }

// ErrorFor reports whether the refused change belongs to the form at.
func (v usersView) ErrorFor(at string) bool { return v.HasError() && v.ErrorAt == at }

// addForm is the "add a user" form, echoed after a refusal.
type addForm struct {
	Email, FirstName, LastName string
	AlsoText                   string
	Permissions                []permCheck
	Invalid                    map[string]string // field → message ID
}

// Bad returns the message ID of what is wrong with field, or "".
func (f addForm) Bad(field string) string { return f.Invalid[field] }

type licenceChoice struct {
	Number  string
	Checked bool
}

// personView is one row of the people table. The handler fills in the
// labels and URLs in Go, for the shown page only, so that the template
// prints fields instead of calling t and methods per row.
type personView struct {
	UserID      int64
	Name, Email string
	External    bool
	Key         string // the form key ("u" + id), for ErrorFor and ids
	Open        bool   // the edit form is the one a refused change belongs to
	Grants      []grantView
	Checks      template.HTML // the edit form's checkboxes: checked = held directly
	Removable   bool          // holds direct permissions
	Fixed       bool          // holds permissions that cannot be edited here
	EditURL     string
	RemoveURL   string
	EditLabel   string // the summary of the edit form
	RemoveLabel string // the remove button and its confirmation question,
	RemoveAsk   string // when Removable

	grants []app.GrantView     // what the labels are made of
	direct []models.Permission // held directly
}

// grantView is one permission a person holds, localized.
type grantView struct {
	Perm   string // the permission's name
	Source string // where it comes from (the MBSA of an inherited grant)
}

// fill sets p's key, labels, URLs and edit form for the page v of licence
// users, in the language of text.
func (p *personView) fill(text *pageText, v *usersView) {
	id := strconv.FormatInt(p.UserID, 10)
	p.Key = "u" + id
	p.Open = v.ErrorFor(p.Key)
	for _, g := range p.grants {
		source := "users.source." + string(g.Source)
		switch g.Source {
		case models.SourceDirect:
			p.direct = append(p.direct, g.Permission)
		case models.SourceContact, models.SourceInherited:
			p.Fixed = true
		default:
			source = "users.source.other"
		}
		gv := grantView{Perm: text.get(permLabelID(g.Permission))}
		if g.ViaMBSA != "" {
			gv.Source = text.format("users.source.inherited_from", "MBSA", g.ViaMBSA)
		} else {
			gv.Source = text.get(source)
		}
		p.Grants = append(p.Grants, gv)
	}
	p.Removable = len(p.direct) > 0
	who := cmp.Or(p.Name, p.Email)
	p.EditURL = "/licences/" + v.Licence + "/users/" + id
	p.EditLabel = text.format("users.edit", "Name", who)
	if p.Removable {
		p.RemoveURL = p.EditURL + "/remove"
		p.RemoveLabel = text.format("users.remove", "Name", who)
		p.RemoveAsk = text.format("confirm.remove_user", "Name", who)
	}
}

type invitationView struct {
	ID          int64
	Name, Email string
	External    bool
	PermIDs     []string
	Expires     time.Time
}

// Key is the form key ("i" + id) of the invitation.
func (i invitationView) Key() string { return "i" + strconv.FormatInt(i.ID, 10) }

// permCheck is one permission checkbox.
type permCheck struct {
	Value   models.Permission
	Checked bool
	ID      string // the input's id, set by (*pageText).label
	Label   string // the permission's name, likewise
}

// permChecks returns a checkbox for every permission, checked when held.
func permChecks(held []models.Permission) []permCheck {
	out := make([]permCheck, 0, len(models.Permissions))
	for _, p := range models.Permissions {
		out = append(out, permCheck{Value: p, Checked: slices.Contains(held, p)})
	}
	return out
}

// label names the checkboxes in the page's language and gives them the ids
// idPrefix + permission; it returns checks.
func (p *pageText) label(checks []permCheck, idPrefix string) []permCheck {
	for i := range checks {
		checks[i].ID = idPrefix + string(checks[i].Value)
		checks[i].Label = p.get(permLabelID(checks[i].Value))
	}
	return checks
}

// permRank orders permissions strongest first, unknown ones last.
func permRank(p models.Permission) int {
	if i := slices.Index(models.Permissions, p); i >= 0 {
		return i
	}
	return len(models.Permissions)
}

// permLabelID is the message ID of a permission's name.
func permLabelID(p models.Permission) string {
	if p.Valid() {
		return "users.perm." + string(p)
	}
	return "users.perm.unknown"
}

// doneNotices maps the ?done= of a redirect to its notice.
var doneNotices = map[string]string{
	"added":   "users.done.added",
	"updated": "users.done.updated",
	"removed": "users.done.removed",
	"resent":  "users.done.resent",
}

func (h usersPage) show(c *gin.Context) {
	v := usersView{Done: doneNotices[c.Query("done")]}
	if who := c.Query("who"); v.Done == "users.done.added" && who != "" {
		v.Done, v.DoneEmail = "users.done.added_who", who
	}
	h.renderPage(c, http.StatusOK, v)
}

// renderPage fills in the people and the form choices and renders the page.
func (h usersPage) renderPage(c *gin.Context, status int, v usersView) {
	ctx := c.Request.Context()
	licence := authz.LicenceID(c)
	v.Licence = c.Param("licence")
	admin, _ := app.UserID(ctx)
	list, err := h.admin.Users(ctx, admin, licence)
	if err != nil {
		h.ui.Error(c, httperr.Status(err), err)
		return
	}
	var people []personView
	for _, lu := range list {
		if lu.InvitationID != 0 {
			v.Invitations = append(v.Invitations, invitationOf(lu))
			continue
		}
		people = append(people, personView{UserID: lu.UserID, Name: lu.Name, Email: lu.Email, External: lu.External, grants: lu.Grants})
	}
	v.People, v.List = parsePeopleQuery(c).apply(v.Licence, people)
	text := h.ui.pageText(c.Request)
	for i := range v.People {
		v.People[i].fill(text, &v)
	}
	if v.Add.Permissions == nil {
		v.Add.Permissions = permChecks(nil)
	}
	text.label(v.Add.Permissions, "add-perm-")
	if text.err != nil {
		h.ui.Error(c, http.StatusInternalServerError, text.err)
		return
	}
	if err := h.permChecks(c, text, v.People); err != nil {
		h.ui.Error(c, http.StatusInternalServerError, err)
		return
	}
	v.Others, v.OtherText = h.otherLicences(ctx, admin, licence, v.Add)
	h.ui.render(c, status, "licence_users.html", "licences", v)
}

// keyMark stands for a person's key in their checkboxes' ids until
// permChecks writes the key in; a character of the private use area, it
// is in no message and html/template writes it unchanged.
const keyMark = "\uE000"

// permChecks renders the edit form checkboxes of people (template
// "perm_checks" of licence_users.html). They differ from person to person
// only by the permissions held and the key in their ids, so html/template
// renders each distinct set of held permissions once per request, with
// keyMark in the ids, and each person's key ("u" and digits, which
// html/template writes unchanged in an attribute) is written in after:
// 50 people cost a few template executions instead of 200 checkboxes of
// five actions each.
func (h usersPage) permChecks(c *gin.Context, text *pageText, people []personView) error {
	rendered := map[int]string{} // by the set of checked boxes, one bit each
	for i := range people {
		p := &people[i]
		checks := permChecks(p.direct)
		held := 0
		for j, ch := range checks {
			if ch.Checked {
				held |= 1 << j
			}
		}
		html, ok := rendered[held]
		if !ok {
			out, err := h.ui.fragment(c.Request, "licence_users.html", "perm_checks", text.label(checks, "perm-"+keyMark+"-"))
			if err != nil {
				return err
			}
			html = string(out)
			rendered[held] = html
		}
		p.Checks = template.HTML(strings.ReplaceAll(html, keyMark, p.Key))
	}
	return nil
}

// invitationOf is the row of the pending invitation lu, its permissions
// strongest first.
func invitationOf(lu app.LicenceUser) invitationView {
	inv := invitationView{ID: lu.InvitationID, Name: lu.Name, Email: lu.Email, External: lu.External}
	invited := slices.Clone(lu.Invited)
	slices.SortStableFunc(invited, func(a, b string) int {
		return permRank(models.Permission(a)) - permRank(models.Permission(b))
	})
	for _, p := range invited {
		inv.PermIDs = append(inv.PermIDs, permLabelID(models.Permission(p)))
	}
	if lu.InviteExpiry != nil {
		inv.Expires = *lu.InviteExpiry
	}
	return inv
}

// otherLicences lists the other licences admin administers, for the "also
// give the same permissions on" checkboxes, with those of f checked; or
// reports that a text field must do (no way to name them, or too many).
func (h usersPage) otherLicences(ctx context.Context, admin, licence int64, f addForm) ([]licenceChoice, bool) {
	if h.names == nil || h.guard.Authorizer == nil {
		return nil, true
	}
	var ids []int64
	for _, la := range h.guard.Authorizer.Licences(admin) {
		if la.AgreementID != licence && slices.Contains(la.Permissions, models.PermAdministrator) {
			ids = append(ids, la.AgreementID)
		}
	}
	if len(ids) == 0 {
		return nil, false
	}
	if len(ids) > maxLicenceChoices {
		return nil, true
	}
	ags, err := h.names.AgreementsByID(ctx, ids)
	if err != nil {
		h.ui.logger.WarnContext(ctx, "administered licences unavailable", "err", err)
		return nil, true
	}
	checked := splitLicences(f.AlsoText)
	out := make([]licenceChoice, 0, len(ags))
	for _, ag := range ags {
		out = append(out, licenceChoice{Number: ag.Number, Checked: slices.Contains(checked, ag.Number)})
	}
	slices.SortFunc(out, func(a, b licenceChoice) int { return strings.Compare(a.Number, b.Number) })
	return out, false
}

// splitLicences splits License IDs separated by commas, spaces or new
// lines, without duplicates.
func splitLicences(s string) []string {
	var out []string
	for _, n := range strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == '、' || r == '，' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	}) {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// formPermissions reads the permission checkboxes of a form.
func formPermissions(c *gin.Context) []models.Permission {
	var out []models.Permission
	for _, p := range c.PostFormArray("permissions") {
		if !slices.Contains(out, models.Permission(p)) {
			out = append(out, models.Permission(p))
		}
	}
	return out
}

// back redirects to the users page with a notice.
func (h usersPage) back(c *gin.Context, done, who string) {
	q := url.Values{"done": {done}}
	if who != "" {
		q.Set("who", who)
	}
	c.Redirect(http.StatusSeeOther, "/licences/"+url.PathEscape(c.Param("licence"))+"/users?"+q.Encode())
}

func (h usersPage) add(c *gin.Context) {
	admin, _ := app.UserID(c.Request.Context())
	perms := formPermissions(c)
	also := append(c.PostFormArray("also_licences"), splitLicences(c.PostForm("also_licences_text"))...)
	in := app.AddUserInput{
		Email:       strings.TrimSpace(c.PostForm("email")),
		FirstName:   strings.TrimSpace(c.PostForm("first_name")),
		LastName:    strings.TrimSpace(c.PostForm("last_name")),
		Permissions: perms,
		Licences:    splitLicences(strings.Join(also, ",")),
	}
	err := h.admin.AddUser(c.Request.Context(), admin, authz.LicenceID(c), in)
	if err == nil {
		h.back(c, "added", in.Email)
		return
	}
	f := addForm{Email: in.Email, FirstName: in.FirstName, LastName: in.LastName, AlsoText: strings.Join(in.Licences, ", "),
		Permissions: permChecks(perms), Invalid: map[string]string{}}
	v := usersView{Add: f, ErrorAt: "add"}
	var e *models.Error
	if errors.As(err, &e) && e.Code == models.CodeInvalid {
		v.ErrorID = "users.error.invalid"
		for _, fe := range e.Fields {
			switch fe.Field {
			case "email":
				f.Invalid["email"] = "users.error.email"
			case "permissions":
				f.Invalid["permissions"] = "users.error.permissions"
			case "first_name", "last_name":
				f.Invalid["name"] = "users.error.name"
			case "also_licences":
				f.Invalid["also_licences"] = "users.error.also_licences"
			default:
				v.ErrorText = h.ui.errorText(c, err)
			}
		}
		if v.ErrorText != "" {
			v.ErrorID = ""
		}
		v.Add = f
		h.renderPage(c, http.StatusUnprocessableEntity, v)
		return
	}
	h.refused(c, err, v)
}

func (h usersPage) edit(c *gin.Context) {
	h.setPermissions(c, formPermissions(c), "updated")
}

func (h usersPage) remove(c *gin.Context) {
	h.setPermissions(c, nil, "removed")
}

func (h usersPage) setPermissions(c *gin.Context, perms []models.Permission, done string) {
	admin, _ := app.UserID(c.Request.Context())
	user, err := strconv.ParseInt(c.Param("user"), 10, 64)
	if err != nil || user <= 0 {
		err = models.Errorf(models.CodeNotFound, "This person has no access to the licence.")
	} else {
		err = h.admin.SetPermissions(c.Request.Context(), admin, authz.LicenceID(c), user, perms)
	}
	if err == nil {
		h.back(c, done, "")
		return
	}
	v := usersView{ErrorAt: "u" + strconv.FormatInt(user, 10)}
	var e *models.Error
	switch {
	case errors.Is(err, authz.ErrLastAdministrator), errors.Is(err, authz.ErrContactGrant), errors.Is(err, authz.ErrInheritedGrant):
	case errors.As(err, &e) && e.Code == models.CodeForbidden && !errors.Is(err, authz.ErrNotAllowed):
		// Only contact-derived or inherited permissions: nothing here to remove.
		v.ErrorID = "users.error.not_removable"
	case errors.As(err, &e) && e.Code == models.CodeInvalid:
		v.ErrorID = "users.error.permissions"
	}
	h.refused(c, err, v)
}

func (h usersPage) resend(c *gin.Context) {
	admin, _ := app.UserID(c.Request.Context())
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		err = models.Errorf(models.CodeNotFound, "No such pending invitation.")
	} else {
		err = h.admin.ResendInvitation(c.Request.Context(), admin, authz.LicenceID(c), id)
	}
	if err == nil {
		h.back(c, "resent", "")
		return
	}
	h.refused(c, err, usersView{ErrorAt: "i" + strconv.FormatInt(id, 10), ErrorID: "users.error.invitation"})
}

// refused shows the page again with why a change was refused, with the
// status of the error; server errors get the error page.
func (h usersPage) refused(c *gin.Context, err error, v usersView) {
	status := httperr.Status(err)
	if status >= 500 {
		h.ui.Error(c, status, err)
		return
	}
	if v.ErrorID == "" && v.ErrorText == "" {
		switch {
		case errors.Is(err, authz.ErrLastAdministrator):
			v.ErrorID = "users.error.last_admin"
		case errors.Is(err, authz.ErrContactGrant):
			v.ErrorID = "users.error.contact"
		case errors.Is(err, authz.ErrInheritedGrant):
			v.ErrorID = "users.error.inherited"
		case models.ErrorCode(err) == models.CodeNotFound:
			v.ErrorID = "users.error.not_found"
		default:
			v.ErrorText = h.ui.errorText(c, err)
		}
	}
	h.ui.logger.InfoContext(c.Request.Context(), "licence user change refused", "path", c.Request.URL.Path, "status", status, "err", err)
	h.renderPage(c, status, v)
}
