package models

// load reads the stored records the document can refer to.
func (im *importer) load() error {
	db := im.tx.db
	var orgs []Organization
	if err := db.Find(&orgs).Error; err != nil {
		return err
	}
	im.orgs = make(map[string]*Organization, len(orgs))
	im.orgByID = make(map[int64]string, len(orgs))
	for i := range orgs {
		im.orgs[orgs[i].Number] = &orgs[i]
		im.orgByID[orgs[i].ID] = orgs[i].Number
	}
	var ags []Agreement
	if err := db.Find(&ags).Error; err != nil {
		return err
	}
	im.agreements = make(map[string]*Agreement, len(ags))
	im.agrByID = make(map[int64]string, len(ags))
	for i := range ags {
		im.agreements[ags[i].Number] = &ags[i]
		im.agrByID[ags[i].ID] = ags[i].Number
	}
	var contacts []AgreementContact
	if err := db.Find(&contacts).Error; err != nil {
		return err
	}
	im.contacts = make(map[int64][]AgreementContact)
	for _, c := range contacts {
		im.contacts[c.AgreementID] = append(im.contacts[c.AgreementID], c)
	}
	return im.loadCatalog()
}

// loadCatalog reads the stored products, versions, files, entitlements and
// product keys.
func (im *importer) loadCatalog() error {
	db := im.tx.db
	var products []Product
	if err := db.Find(&products).Error; err != nil {
		return err
	}
	im.products = make(map[string]*Product, len(products))
	productByID := make(map[int64]*Product, len(products))
	for i := range products {
		im.products[products[i].Code] = &products[i]
		productByID[products[i].ID] = &products[i]
	}
	var versions []ProductVersion
	if err := db.Find(&versions).Error; err != nil {
		return err
	}
	im.versions = make(map[versionKey]*ProductVersion, len(versions))
	im.byProduct = make(map[string][]versionKey)
	versionByID := make(map[int64]versionKey, len(versions))
	for i := range versions {
		v := &versions[i]
		k := versionKey{productByID[v.ProductID].Code, v.Version, v.Edition}
		im.versions[k] = v
		im.byProduct[k.product] = append(im.byProduct[k.product], k)
		versionByID[v.ID] = k
	}
	var files []ProductFile
	if err := db.Find(&files).Error; err != nil {
		return err
	}
	im.files = make(map[fileKey]*ProductFile, len(files))
	for i := range files {
		im.files[fileKey{versionByID[files[i].VersionID], files[i].Name}] = &files[i]
	}
	var ents []Entitlement
	if err := db.Select("agreement_id", "version_id").Find(&ents).Error; err != nil {
		return err
	}
	im.entitled = make(map[[2]int64]bool, len(ents))
	for _, e := range ents {
		im.entitled[[2]int64{e.AgreementID, e.VersionID}] = true
	}
	var keys []ProductKey
	err := db.Select("id", "agreement_id", "product_id", "key_type", "fingerprint", "suffix",
		"activation_limit", "activations_used", "activations_as_of", "status", "block_reason", "status_changed_at").Find(&keys).Error
	if err != nil {
		return err
	}
	im.storedKeys = make(map[keyKey]*ProductKey, len(keys))
	for i := range keys {
		k := &keys[i]
		im.storedKeys[keyKey{im.agrByID[k.AgreementID], productByID[k.ProductID].Code, k.Fingerprint}] = k
	}
	return im.loadOrders(productByID)
}

// validate checks the whole document against itself and the stored data,
