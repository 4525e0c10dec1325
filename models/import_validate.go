package models

import (
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// validateOrganization checks the organization at index i and, when it
// is valid and new or changed, returns its row; stored are the stored
// organizations of its batch, by number.
func (im *importer) validateOrganization(i int, o ImportOrganization, stored map[string]*Organization) (Organization, bool) {
	p := fmt.Sprintf("organizations[%d]", i)
	number, name := strings.TrimSpace(o.Number), strings.TrimSpace(o.Name)
	ok := true
	if !numberPattern.MatchString(number) {
		im.problem(p+".number", "err.import.org_number", "%s; use 1 to 64 letters, digits, '.', '_' or '-'", describe(o.Number))
		ok = false
	} else if j, dup := im.docOrgs[number]; dup {
		im.problem(p+".number", "err.import.org_twice", "organization %q is listed twice (first at organizations[%d])", number, j)
		ok = false
	}
	if name == "" || utf8.RuneCountInString(name) > 200 {
		im.problem(p+".name", "err.import.org_name", "give the organization's name (1 to 200 characters)")
		ok = false
	}
	if !ok {
		return Organization{}, false
	}
	im.docOrgs[number] = int32(i)
	switch s := stored[number]; {
	case s == nil:
		im.res.Organizations.Created++
	case s.Name != name:
		im.res.Organizations.Updated++
	default:
		im.res.Organizations.Unchanged++
		return Organization{}, false
	}
	return Organization{Number: number, Name: name, CreatedAt: im.now, UpdatedAt: im.now}, true
}

// indexAgreement indexes the document's agreement a at index i by number,
// reporting a malformed or repeated number, and reports whether it is
// the first with its number.
func (im *importer) indexAgreement(i int, a ImportAgreement) bool {
	number := strings.TrimSpace(a.Number)
	if !numberPattern.MatchString(number) {
		im.problem(fmt.Sprintf("agreements[%d].number", i), "err.import.agreement_number", "%s; use 1 to 64 letters, digits, '.', '_' or '-'", describe(a.Number))
		return false
	}
	if e, dup := im.docAgreements.get(number); dup {
		im.problem(fmt.Sprintf("agreements[%d].number", i), "err.import.agreement_twice", "agreement %q is listed twice (first at agreements[%d])", number, e.index)
		return false
	}
	code := uint8(slices.Index(Programs, Program(a.Program)) + 1)
	if code == 0 {
		im.oddPrograms[number] = a.Program
	}
	im.docAgreements.put(number, docAgreement{index: int32(i), program: code})
	return true
}

// docProgram returns the program of the document's agreement number, or
// "" when the document does not list it (or not yet).
func (im *importer) docProgram(number string) Program {
	e, ok := im.docAgreements.get(number)
	switch {
	case !ok:
		return ""
	case e.program == 0:
		return Program(im.oddPrograms[number])
	}
	return Programs[e.program-1]
}

// validateAgreement checks the agreement at index i and, when it is valid,
// plans it and its contacts in b.
func (im *importer) validateAgreement(i int, number string, a ImportAgreement, b *agreementBatch) {
	p := fmt.Sprintf("agreements[%d]", i)
	prog := Program(a.Program)
	stored := b.stored[number]
	if stored != nil {
		im.docAgreements.setID(number, stored.ID)
	}
	ok := im.checkProgram(p, number, prog, stored)
	org := strings.TrimSpace(a.Organization)
	ok = im.checkAgreementOrganization(p, org, b) && ok
	parent := strings.TrimSpace(a.Parent)
	ok = im.checkParent(i, number, parent, prog, b) && ok
	starts, ends := im.date(p+".starts", a.Starts), im.date(p+".ends", a.Ends)
	if !starts.IsZero() && !ends.IsZero() && ends.Before(starts) {
		im.problem(p+".ends", "err.import.ends_before_starts", "ends (%s) is before starts (%s)", ends, starts)
		ok = false
	}
	if utf8.RuneCountInString(a.Name) > 200 {
		im.problem(p+".name", "err.import.agreement_name", "the name is longer than 200 characters")
		ok = false
	}
	authHash, authOK := im.authorizationHash(p, prog, a.AuthorizationNumber, stored)
	ok = authOK && ok
	contacts := im.validateContacts(p, a.Contacts)
	if !ok || contacts == nil {
		return
	}
	plan := agreementPlan{
		number: number, name: strings.TrimSpace(a.Name), program: prog, organization: org, parent: parent,
		starts: starts, ends: ends, authHash: authHash,
	}
	im.planAgreement(plan, stored, b)
	im.planContacts(number, stored, contacts, b)
}

func (im *importer) checkProgram(p, number string, prog Program, stored *Agreement) bool {
	if !prog.Valid() {
		im.problem(p+".program", "err.import.program", "%s is not a program; use one of %s", describe(string(prog)), programList())
		return false
	}
	if stored != nil && stored.Program != prog {
		im.problem(p+".program", "err.import.program_changed", "agreement %q is stored as %s; the program of an agreement cannot change", number, stored.Program)
		return false
	}
	return true
}

func (im *importer) checkAgreementOrganization(p, org string, b *agreementBatch) bool {
	if _, inDoc := im.docOrgs[org]; inDoc || b.orgIDs[org] != 0 {
		return true
	}
	if org == "" {
		im.problem(p+".organization", "err.import.organization_missing", "give the number of the organization the agreement belongs to")
	} else {
		im.problem(p+".organization", "err.import.organization_unknown", "organization %q not found; list it under organizations or import it first", org)
	}
	return false
}

// checkParent checks that parent, when given, is an MBSA in the document or
// the database and that an agreement of program prog may hang under it. A
// parent that is neither stored nor listed yet is checked at the end of
// the section (see resolveParents).
func (im *importer) checkParent(i int, number, parent string, prog Program, b *agreementBatch) bool {
	if parent == "" {
		return true
	}
	parentProg := im.docProgram(parent)
	if _, inDoc := im.docAgreements.get(parent); !inDoc {
		sp := b.stored[parent]
		if sp == nil {
			im.parentChecks = append(im.parentChecks, parentCheck{child: number, parent: parent, index: int32(i), program: prog})
			return true
		}
		parentProg = sp.Program
	}
	return im.parentProblem(fmt.Sprintf("agreements[%d].parent", i), parent, parentProg, prog)
}

// parentProblem reports whether an agreement of program prog may hang
// under parent, of program parentProg ("" when it is not found),
// reporting a problem at field when not.
func (im *importer) parentProblem(field, parent string, parentProg, prog Program) bool {
	switch {
	case parentProg == "":
		im.problem(field, "err.import.parent_unknown", "agreement %q not found", parent)
	case parentProg != ProgramMBSA:
		im.problem(field, "err.import.parent_not_mbsa", "agreement %q is %s; a parent must be an mbsa", parent, parentProg)
	case prog.Valid() && !prog.CanHaveParent():
		im.problem(field, "err.import.parent_not_allowed", "a %s agreement cannot have a parent; only enterprise and select_plus hang under an MBSA", prog)
	default:
		return true
	}
	return false
}

// authorizationHash returns the authorization-number hash the agreement is
// to have (only Open License agreements have one), reporting false after a
// problem.
func (im *importer) authorizationHash(p string, prog Program, number string, stored *Agreement) (*string, bool) {
	switch auth := strings.TrimSpace(number); {
	case prog != ProgramOpenLicense && auth != "":
		im.problem(p+".authorization_number", "err.import.auth_not_open", "only open_license agreements have an authorization number")
	case prog == ProgramOpenLicense && auth == "" && (stored == nil || stored.AuthHash == nil):
		im.problem(p+".authorization_number", "err.import.auth_missing", "a new open_license agreement needs its authorization number")
	case auth != "" && !authNumPattern.MatchString(auth):
		im.problem(p+".authorization_number", "err.import.auth_format", "use 4 to 64 letters, digits or '-'")
	case auth != "":
		h := im.keys.HashAuthorizationNumber(auth)
		return &h, true
	case stored != nil:
		return stored.AuthHash, true
	default:
		return nil, true
	}
	return nil, false
}

// planAgreement counts the agreement row and plans it in b when it is new
// or differs from the stored one.
func (im *importer) planAgreement(plan agreementPlan, stored *Agreement, b *agreementBatch) {
	changed := true
	if stored != nil {
		parent := ""
		if stored.ParentID != nil {
			parent = b.parentNumbers[*stored.ParentID]
		}
		changed = stored.Name != plan.name || !stored.Starts.Equal(plan.starts) || !stored.Ends.Equal(plan.ends) ||
			!equalPtr(stored.AuthHash, plan.authHash) || b.orgNumbers[stored.OrganizationID] != plan.organization ||
			parent != plan.parent
	}
	switch {
	case stored == nil:
		im.res.Agreements.Created++
	case changed:
		im.res.Agreements.Updated++
	default:
		im.res.Agreements.Unchanged++
	}
	if changed {
		b.rows = append(b.rows, plan)
	}
}

// validateContacts returns the normalised contacts, or nil after reporting
// a problem. An agreement without contacts yields an empty, non-nil slice.
func (im *importer) validateContacts(p string, in []ImportContact) []contactPlan {
	out := make([]contactPlan, 0, len(in))
	seen := make(map[contactPlan]int)
	ok := true
	for j, c := range in {
		cp := fmt.Sprintf("%s.contacts[%d]", p, j)
		email := NormalizeEmail(c.Email)
		if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email || addr.Name != "" {
			im.problem(cp+".email", "err.import.contact_email", "%s is not an email address such as it-admin@contoso.example", describe(c.Email))
			ok = false
		}
		role := ContactRole(c.Role)
		if !role.Valid() {
			im.problem(cp+".role", "err.import.contact_role", "%s is not a contact role; use primary, notices or online_admin", describe(c.Role))
			ok = false
		}
		plan := contactPlan{email: email, role: role}
		if k, dup := seen[plan]; dup {
			im.problem(cp, "err.import.contact_twice", "%s is already listed as %s at %s.contacts[%d]", email, role, p, k)
			ok = false
		}
		seen[plan] = j
		out = append(out, plan)
	}
	if !ok {
		return nil
	}
	return out
}

func (im *importer) planContacts(number string, stored *Agreement, want []contactPlan, b *agreementBatch) {
	have := map[contactPlan]int64{}
	if stored != nil {
		for _, c := range b.contacts[stored.ID] {
			have[contactPlan{email: c.Email, role: c.Role}] = c.ID
		}
	}
	for _, c := range want {
		if _, ok := have[c]; ok {
			delete(have, c)
			im.res.Contacts.Unchanged++
			continue
		}
		c.agreement = number
		b.contactAdd = append(b.contactAdd, c)
		im.res.Contacts.Created++
	}
	for c, id := range have {
		b.contactDel = append(b.contactDel, id)
		im.res.Contacts.Removed++
		im.res.ContactChanges = append(im.res.ContactChanges, ContactChange{AgreementID: stored.ID, Email: c.email, Role: c.role})
	}
}

// agreementKnown reports whether number is an agreement of the document
// or the database, that is in refs (see agreementRefs), reporting a
// problem at field when not.
func (im *importer) agreementKnown(field, number string, refs map[string]int64) bool {
	if _, ok := refs[number]; ok {
		return true
	}
	im.problem(field, "err.import.agreement_unknown", "agreement %q not found", number)
	return false
}

func (im *importer) productKnown(field, code string) bool {
	if im.docProducts[code] || im.products[code] != nil {
		return true
	}
	im.problem(field, "err.import.product_unknown", "product %q not found", code)
	return false
}

func (im *importer) date(field, s string) Date {
	s = strings.TrimSpace(s)
	if s == "" {
		return Date{}
	}
	d, err := ParseDate(s)
	if err != nil {
		im.addProblem(FieldError{Field: field, Key: "err.import.date", Args: Args{"Value": s}, Message: err.Error()})
	}
	return d
}

// suffix returns the last five characters of a key, as lists show them.
func suffix(key string) string {
	r := []rune(key)
	if len(r) <= 5 {
		return string(r)
	}
	return string(r[len(r)-5:])
}

// described is a value as an error message names it: quoted, or
// "missing"; a message key's arguments get the value itself (shortened),
// empty when it is missing.
type described string

// describe returns s as an error message names it.
func describe(s string) described {
	if utf8.RuneCountInString(s) > 80 {
		s = string([]rune(s)[:80]) + "…"
	}
	return described(strings.TrimSpace(s))
}

func (d described) String() string {
	if d == "" {
		return "missing"
	}
	return fmt.Sprintf("%q", string(d))
}

func programList() string {
	names := make([]string, len(Programs))
	for i, p := range Programs {
		names[i] = string(p)
	}
	return strings.Join(names, ", ")
}

func equalPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func equalTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}
