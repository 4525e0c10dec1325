package demo

// Persona is a demo person the development sign-in offers.
type Persona struct {
	Subject     string // the identity's subject at the development provider
	Email       string // the address the persona signs in with and registers as work email
	Name        string
	Description string
	Operator    bool // holds the global operator role in development mode
}

// Personas are the people of the demo data set (see README.md).
var Personas = []Persona{
	{"it-admin", "it-admin@contoso.example", "Aiko Tanaka", "Customer administrator: primary contact of MBSA M1000001 and Open Value V4000004", false},
	{"ea-admin", "ea-admin@contoso.example", "Kenji Sato", "Enrollment administrator: online admin of E2000001", false},
	{"notices", "licensing-notices@contoso.example", "Yuki Suzuki", "Notices contact of E2000002 and V4000004 (licensing info)", false},
	{"staff", "staff@contoso.example", "Haruto Ito", "Staff member with no contact role: requests access", false},
	{"fabrikam-admin", "admin@fabrikam.example", "Mei Watanabe", "Fabrikam administrator: online admin of Open License V3000002", false},
	{"partner", "partner@northwind.example", "Sam Carter", "Partner / reseller (Northwind), added by a customer administrator", false},
	{"operator", "operator@openlsc.example", "Olivia Operator", "Service center operator (global operator role)", true},
}
