package models

// ImportDocument is the JSON document that `openlsc import` loads. Every
// record is matched to what is stored by its natural key (numbers, product
// ids); records the document does not mention are left alone. Every
// string follows the one-line free-text rule (see CheckLine) after
// surrounding white space is trimmed.
type ImportDocument struct {
	Organizations []ImportOrganization `json:"organizations"`
	Agreements    []ImportAgreement    `json:"agreements"`
	Products      []ImportProduct      `json:"products"`
	Entitlements  []ImportEntitlement  `json:"entitlements"`
	Keys          []ImportKey          `json:"keys"`
	Orders        []ImportOrder        `json:"orders"`
}

// ImportOrganization is an organisation in an import document.
type ImportOrganization struct {
	Number string `json:"number"`
	Name   string `json:"name"`
}

// ImportAgreement is an agreement in an import document. Its contacts
// replace the stored ones. AuthorizationNumber is required for a new Open
// License and, when given for a stored one, replaces its hash.
type ImportAgreement struct {
	Program             string          `json:"program"`
	Number              string          `json:"number"`
	Name                string          `json:"name"`
	Organization        string          `json:"organization"`
	Parent              string          `json:"parent"`
	Starts              string          `json:"starts"`
	Ends                string          `json:"ends"`
	AuthorizationNumber string          `json:"authorization_number"`
	Contacts            []ImportContact `json:"contacts"`
}

// ImportContact is a named contact of an agreement.
type ImportContact struct {
	Email string `json:"email"`
	Role  string `json:"role"`
}

// ImportProduct is a catalog product with its versions.
type ImportProduct struct {
	ID       string          `json:"id"`
	Name     string          `json:"name"`
	Versions []ImportVersion `json:"versions"`
}

// ImportVersion is one version and edition of a product with its files.
type ImportVersion struct {
	Version  string       `json:"version"`
	Released string       `json:"released"`
	Edition  string       `json:"edition"`
	Files    []ImportFile `json:"files"`
}

// ImportFile is a downloadable file of a product version.
type ImportFile struct {
	Name     string `json:"name"`
	Language string `json:"language"`
	Size     int64  `json:"size"`
	SHA256   string `json:"sha256"`
	Path     string `json:"path"`
}

// ImportEntitlement entitles an agreement to a product version. Without an
// edition it covers every edition of that version.
type ImportEntitlement struct {
	Agreement string  `json:"agreement"`
	Product   string  `json:"product"`
	Version   string  `json:"version"`
	Edition   *string `json:"edition"`
}

// ImportKey is a product key of an agreement, with MAK activation counts.
type ImportKey struct {
	Agreement       string `json:"agreement"`
	Product         string `json:"product"`
	Type            string `json:"type"`
	Key             string `json:"key"`
	ActivationLimit *int64 `json:"activation_limit"`
	ActivationsUsed *int64 `json:"activations_used"`
	ActivationsAsOf string `json:"activations_as_of"`
	// Status, when given, sets the key's status (active, blocked or
	// retired); a blocked key needs BlockReason. Without it a new key is
	// active and a stored one keeps its status.
	Status      string `json:"status"`
	BlockReason string `json:"block_reason"`
}

// ImportOrder is one line of an order on an agreement. The agreement,
// order number, product, version and edition identify it: a re-import
// updates the line.
type ImportOrder struct {
	Agreement   string `json:"agreement"`
	Number      string `json:"number"`
	Date        string `json:"date"`
	Product     string `json:"product"`
	Version     string `json:"version"`
	Edition     string `json:"edition"`
	Quantity    *int64 `json:"quantity"`
	LicenceType string `json:"licence_type"`
	SAEnds      string `json:"sa_ends"`
	Pool        string `json:"pool"`
}
