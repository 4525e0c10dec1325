package models

import (
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm"
)

// agreementBatch is a batch of the document's agreements: the stored rows
// it names, read for it alone, and its plan.
type agreementBatch struct {
	stored        map[string]*Agreement        // the batch's agreements and parents, by number
	orgIDs        map[string]int64             // the stored organizations named, by number
	orgNumbers    map[int64]string             // of the stored agreements' organizations
	parentNumbers map[int64]string             // of the stored agreements' parents
	contacts      map[int64][]AgreementContact // of the stored agreements
	rows          []agreementPlan
	contactAdd    []contactPlan
	contactDel    []int64
}

// organizationBatch validates a batch of organizations, the first at
// index first, against the stored ones and, while the import is clean,
// stores the new and changed ones.
func (im *importer) organizationBatch(first int, batch []ImportOrganization) error {
	checkRecordsText(im, "organizations", first, batch)
	numbers := make([]string, len(batch))
	for i, o := range batch {
		numbers[i] = strings.TrimSpace(o.Number)
	}
	stored := make(map[string]*Organization, len(batch))
	err := findIn(im.tx.db, []string{"id", "number", "name"}, "number", numbers, func(o *Organization) { stored[o.Number] = o })
	if err != nil {
		return err
	}
	var rows []Organization
	for i, o := range batch {
		if row, ok := im.validateOrganization(first+i, o, stored); ok {
			rows = append(rows, row)
		}
	}
	if !im.writing() {
		return nil
	}
	if err := upsert(im.tx.db, rows, []string{"number"}, "name", "updated_at"); err != nil {
		return fmt.Errorf("store organizations: %w", err)
	}
	return nil
}

// streamAgreements validates (and stores) the agreements a batch at a
// time, then the parents named before the document listed them.
func (im *importer) streamAgreements(src importSource) error {
	if err := inBatches(src, im.agreementBatch); err != nil {
		return err
	}
	return im.resolveParents()
}

// agreementBatch validates a batch of agreements, the first at index
// first, and their contacts against the stored ones and, while the import
// is clean, stores the new and changed ones.
func (im *importer) agreementBatch(first int, batch []ImportAgreement) error {
	checkRecordsText(im, "agreements", first, batch)
	// Numbers first, so that a parent later in the batch is known.
	indexed := make([]bool, len(batch))
	for i, a := range batch {
		indexed[i] = im.indexAgreement(first+i, a)
	}
	b, err := im.loadAgreementBatch(batch)
	if err != nil {
		return err
	}
	for i, a := range batch {
		if indexed[i] {
			im.validateAgreement(first+i, strings.TrimSpace(a.Number), a, b)
		}
	}
	if !im.writing() {
		return nil
	}
	return im.storeAgreementBatch(b)
}

// loadAgreementBatch reads the stored agreements a batch names (its own
// and their parents), with what the plan compares them to, and the ids of
// the organizations it names.
func (im *importer) loadAgreementBatch(batch []ImportAgreement) (*agreementBatch, error) {
	b := &agreementBatch{
		stored: map[string]*Agreement{}, orgNumbers: map[int64]string{}, parentNumbers: map[int64]string{},
		contacts: map[int64][]AgreementContact{},
	}
	numbers := make([]string, 0, 2*len(batch))
	orgs := make([]string, 0, len(batch))
	for _, a := range batch {
		numbers = append(numbers, strings.TrimSpace(a.Number))
		if p := strings.TrimSpace(a.Parent); p != "" {
			numbers = append(numbers, p)
		}
		orgs = append(orgs, strings.TrimSpace(a.Organization))
	}
	db := im.tx.db
	if err := findIn(db, nil, "number", numbers, func(a *Agreement) { b.stored[a.Number] = a }); err != nil {
		return nil, err
	}
	var err error
	if b.orgIDs, err = idsByKey(db, "organizations", "number", distinct(orgs)); err != nil {
		return nil, err
	}
	var orgIDs, parentIDs, ids []int64
	for _, a := range b.stored {
		orgIDs, ids = append(orgIDs, a.OrganizationID), append(ids, a.ID)
		if a.ParentID != nil {
			parentIDs = append(parentIDs, *a.ParentID)
		}
	}
	err = findIn(db, []string{"id", "number"}, "id", orgIDs, func(o *Organization) { b.orgNumbers[o.ID] = o.Number })
	if err != nil {
		return nil, err
	}
	err = findIn(db, []string{"id", "number"}, "id", parentIDs, func(a *Agreement) { b.parentNumbers[a.ID] = a.Number })
	if err != nil {
		return nil, err
	}
	err = findIn(db, nil, "agreement_id", ids, func(c *AgreementContact) {
		b.contacts[c.AgreementID] = append(b.contacts[c.AgreementID], *c)
	})
	return b, err
}

// storeAgreementBatch stores the planned agreements and contacts of b.
func (im *importer) storeAgreementBatch(b *agreementBatch) error {
	// Parents are MBSAs and MBSAs have no parents: the batch's MBSAs
	// first, so that their children in the batch find their ids.
	slices.SortStableFunc(b.rows, func(x, y agreementPlan) int {
		return cmpBool(y.program == ProgramMBSA, x.program == ProgramMBSA)
	})
	split := slices.IndexFunc(b.rows, func(a agreementPlan) bool { return a.program != ProgramMBSA })
	if split < 0 {
		split = len(b.rows)
	}
	db := im.tx.db
	for _, rows := range [][]agreementPlan{b.rows[:split], b.rows[split:]} {
		if err := im.storeAgreements(db, rows, b); err != nil {
			return err
		}
	}
	return im.applyContacts(db, b)
}

// storeAgreements stores planned agreements and notes their ids. A parent
// the document lists further on is not stored yet: resolveParents sets it.
func (im *importer) storeAgreements(db *gorm.DB, plans []agreementPlan, b *agreementBatch) error {
	if len(plans) == 0 {
		return nil
	}
	rows := make([]Agreement, len(plans))
	for i, p := range plans {
		rows[i] = Agreement{
			Number: p.number, Program: p.program, Name: p.name, OrganizationID: b.orgIDs[p.organization],
			Starts: p.starts, Ends: p.ends, AuthHash: p.authHash, CreatedAt: im.now, UpdatedAt: im.now,
		}
		if p.parent == "" {
			continue
		}
		if e, _ := im.docAgreements.get(p.parent); e.id != 0 {
			rows[i].ParentID = &e.id
		} else if sp := b.stored[p.parent]; sp != nil {
			rows[i].ParentID = &sp.ID
		}
	}
	err := upsert(db, rows, []string{"number"}, "name", "organization_id", "parent_id", "starts", "ends", "auth_hash", "updated_at")
	if err != nil {
		return fmt.Errorf("store agreements: %w", err)
	}
	ids, err := idsByKey(db, "agreements", "number", numbersOf(rows))
	if err != nil {
		return err
	}
	for n, id := range ids {
		im.docAgreements.setID(n, id)
		im.res.ChangedAgreements = append(im.res.ChangedAgreements, id)
	}
	return nil
}

// applyContacts stores the planned contacts of b, whose agreements are
// stored.
func (im *importer) applyContacts(db *gorm.DB, b *agreementBatch) error {
	if len(b.contactDel) > 0 {
		if err := im.tx.store.whereIDIn(db, "id", b.contactDel).Delete(&AgreementContact{}).Error; err != nil {
			return fmt.Errorf("remove contacts: %w", err)
		}
	}
	rows := make([]AgreementContact, 0, len(b.contactAdd))
	for _, c := range b.contactAdd {
		a, _ := im.docAgreements.get(c.agreement)
		id := a.id
		rows = append(rows, AgreementContact{AgreementID: id, Email: c.email, Role: c.role, CreatedAt: im.now})
		im.res.ContactChanges = append(im.res.ContactChanges, ContactChange{AgreementID: id, Email: c.email, Role: c.role, Added: true})
	}
	if len(rows) > 0 {
		if err := db.CreateInBatches(rows, importBatch).Error; err != nil {
			return fmt.Errorf("store contacts: %w", err)
		}
	}
	return nil
}

// resolveParents checks the parents the agreements named before the
// document listed them and, while the import is clean, stores them, one
// statement per parent.
func (im *importer) resolveParents() error {
	checks := im.parentChecks
	im.parentChecks = nil
	children := map[int64][]int64{} // by parent id
	for _, c := range checks {
		field := fmt.Sprintf("agreements[%d].parent", c.index)
		if im.parentProblem(field, c.parent, im.docProgram(c.parent), c.program) {
			parent, _ := im.docAgreements.get(c.parent)
			child, _ := im.docAgreements.get(c.child)
			children[parent.id] = append(children[parent.id], child.id)
		}
	}
	if !im.writing() {
		return nil
	}
	db := im.tx.db
	for parent, ids := range children {
		for _, chunk := range chunks(ids, importBatch) {
			if err := db.Model(&Agreement{}).Where("id IN ?", chunk).UpdateColumn("parent_id", parent).Error; err != nil {
				return fmt.Errorf("store agreements' parents: %w", err)
			}
		}
	}
	return nil
}
