//go:build ignore

// gen writes demo.json and the download files under files/ from the data
// below. The committed demo.json and files/ are the source of truth; this
// program only saves typing when the data set changes. Run it from this
// directory with `go generate` (or `go run gen.go`), then `go test .`.
//
// Everything it writes is deterministic: the file contents and the product
// keys come from fixed seeds, so running it twice changes nothing.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// The document, with omitempty so that demo.json stays readable.
type document struct {
	Organizations []organization `json:"organizations"`
	Agreements    []agreement    `json:"agreements"`
	Products      []product      `json:"products"`
	Entitlements  []entitlement  `json:"entitlements"`
	Keys          []key          `json:"keys"`
}

type organization struct {
	Number string `json:"number"`
	Name   string `json:"name"`
}

type agreement struct {
	Program             string    `json:"program"`
	Number              string    `json:"number"`
	Name                string    `json:"name,omitempty"`
	Organization        string    `json:"organization"`
	Parent              string    `json:"parent,omitempty"`
	Starts              string    `json:"starts,omitempty"`
	Ends                string    `json:"ends,omitempty"`
	AuthorizationNumber string    `json:"authorization_number,omitempty"`
	Contacts            []contact `json:"contacts"`
}

type contact struct {
	Email string `json:"email"`
	Role  string `json:"role"`
}

type product struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Versions []version `json:"versions"`
}

type version struct {
	Version  string `json:"version"`
	Released string `json:"released"`
	Edition  string `json:"edition"`
	Files    []file `json:"files"`
}

type file struct {
	Name     string `json:"name"`
	Language string `json:"language"`
	Size     int64  `json:"size"`
	SHA256   string `json:"sha256"`
	Path     string `json:"path"`
}

type entitlement struct {
	Agreement string `json:"agreement"`
	Product   string `json:"product"`
	Version   string `json:"version"`
	Edition   string `json:"edition,omitempty"`
}

type key struct {
	Agreement       string `json:"agreement"`
	Product         string `json:"product"`
	Type            string `json:"type"`
	Key             string `json:"key"`
	ActivationLimit *int64 `json:"activation_limit,omitempty"`
	ActivationsUsed *int64 `json:"activations_used,omitempty"`
	ActivationsAsOf string `json:"activations_as_of,omitempty"`
}

// The catalog: each version lists its editions; the editions of a version
// share its installation media, as Windows Server Standard and Datacenter do.
type productSpec struct {
	id, name string
	versions []versionSpec
}

type versionSpec struct {
	version, released string
	editions          []string
	dir               string // directory under the product's directory
	base, ext         string // file name: base_lang.ext
}

var languages = []string{"ja", "en"}

var catalog = []productSpec{
	{"win-ent", "Windows Enterprise", []versionSpec{
		{"11 24H2", "2024-10-01", []string{"Enterprise"}, "11-24h2", "win11_24h2", "iso"},
		{"11 23H2", "2023-10-31", []string{"Enterprise"}, "11-23h2", "win11_23h2", "iso"},
		{"10 22H2", "2022-10-18", []string{"Enterprise"}, "10-22h2", "win10_22h2", "iso"},
	}},
	{"office-ltsc", "Office LTSC Professional Plus", []versionSpec{
		{"2024", "2024-10-01", []string{"Professional Plus"}, "2024", "office_ltsc_2024_proplus", "img"},
		{"2021", "2021-09-16", []string{"Professional Plus"}, "2021", "office_ltsc_2021_proplus", "img"},
		{"2019", "2018-09-24", []string{"Professional Plus"}, "2019", "office_2019_proplus", "img"},
	}},
	{"sql-server", "SQL Server", []versionSpec{
		{"2022", "2022-11-16", []string{"Standard"}, "2022", "sql_server_2022_standard", "iso"},
		{"2019", "2019-11-04", []string{"Standard"}, "2019", "sql_server_2019_standard", "iso"},
	}},
	{"win-server", "Windows Server", []versionSpec{
		{"2025", "2024-11-01", []string{"Standard", "Datacenter"}, "2025", "win_server_2025", "iso"},
		{"2022", "2021-08-18", []string{"Standard", "Datacenter"}, "2022", "win_server_2022", "iso"},
	}},
}

var organizations = []organization{
	{"C1001", "Contoso Japan KK"},
	{"C2002", "Fabrikam Trading"},
}

var agreements = []agreement{
	{Program: "mbsa", Number: "M1000001", Name: "Contoso Japan KK Master Business and Services Agreement",
		Organization: "C1001", Starts: "2019-07-01",
		Contacts: []contact{{"it-admin@contoso.example", "primary"}}},
	{Program: "enterprise", Number: "E2000001", Name: "Enterprise Agreement 2024–2027 (Tokyo)",
		Organization: "C1001", Parent: "M1000001", Starts: "2024-07-01", Ends: "2027-06-30",
		Contacts: []contact{{"ea-admin@contoso.example", "online_admin"}}},
	{Program: "enterprise", Number: "E2000002", Name: "Enterprise Agreement 2021–2024 (Osaka)",
		Organization: "C1001", Parent: "M1000001", Starts: "2021-04-01", Ends: "2024-03-31",
		Contacts: []contact{{"licensing-notices@contoso.example", "notices"}}},
	{Program: "select_plus", Number: "S2000003", Name: "Select Plus for Server Products",
		Organization: "C1001", Parent: "M1000001", Starts: "2022-02-01", Ends: "2027-01-31",
		Contacts: []contact{}},
	{Program: "open_value", Number: "V4000004", Name: "Open Value for the Nagoya Branch",
		Organization: "C1001", Starts: "2024-10-01", Ends: "2027-09-30",
		Contacts: []contact{{"it-admin@contoso.example", "primary"}, {"licensing-notices@contoso.example", "notices"}}},
	{Program: "open_license", Number: "V3000001", Name: "Open License (order 2024-118)",
		Organization: "C2002", Starts: "2024-06-01", Ends: "2027-05-31", AuthorizationNumber: "12345678",
		Contacts: []contact{}},
	{Program: "open_license", Number: "V3000002", Name: "Open License (order 2025-042)",
		Organization: "C2002", Starts: "2025-03-01", Ends: "2027-02-28", AuthorizationNumber: "87654321",
		Contacts: []contact{{"admin@fabrikam.example", "online_admin"}}},
}

var entitlements = []entitlement{
	{"E2000001", "win-ent", "11 24H2", ""},
	{"E2000001", "office-ltsc", "2024", ""},
	{"E2000001", "sql-server", "2022", ""},
	{"E2000002", "win-ent", "11 23H2", ""},
	{"E2000002", "office-ltsc", "2021", ""},
	{"S2000003", "win-server", "2025", ""}, // every edition
	{"S2000003", "sql-server", "2022", ""},
	{"V4000004", "office-ltsc", "2021", ""},
	{"V3000001", "win-server", "2025", "Standard"},
	{"V3000001", "office-ltsc", "2024", ""},
	{"V3000002", "win-ent", "11 24H2", ""},
	{"V3000002", "sql-server", "2019", ""},
}

// keySpec is a key to generate: MAKs have a limit and a count.
type keySpec struct {
	agreement, product, typ string
	limit, used             int64
}

var keys = []keySpec{
	{"E2000001", "win-ent", "mak", 500, 495},
	{"E2000001", "win-ent", "kms", 0, 0},
	{"E2000001", "office-ltsc", "mak", 500, 120},
	{"E2000001", "office-ltsc", "kms", 0, 0},
	{"E2000002", "win-ent", "mak", 250, 231},
	{"S2000003", "win-server", "mak", 50, 12},
	{"S2000003", "win-server", "kms", 0, 0},
	{"V4000004", "office-ltsc", "mak", 100, 37},
	{"V3000001", "win-server", "mak", 10, 3},
	{"V3000001", "office-ltsc", "mak", 25, 24},
	{"V3000002", "win-ent", "mak", 100, 100},
	{"V3000002", "win-ent", "kms", 0, 0},
}

const activationsAsOf = "2026-11-01T09:00:00Z"

// keyAlphabet is the alphabet of Microsoft-style product keys.
const keyAlphabet = "BCDFGHJKMPQRTVWXY2346789"

func main() {
	if err := os.RemoveAll("files"); err != nil {
		log.Fatal(err)
	}
	doc := document{Organizations: organizations, Agreements: agreements, Entitlements: entitlements}
	for _, p := range catalog {
		out := product{ID: p.id, Name: p.name}
		for _, v := range p.versions {
			title := p.name + " " + v.version
			if len(v.editions) > 1 {
				title += " " + strings.Join(v.editions, "/")
			}
			var files []file
			for _, lang := range languages {
				name := fmt.Sprintf("%s_%s.%s", v.base, lang, v.ext)
				rel := path.Join(p.id, v.dir, name)
				data := content(title, lang, rel)
				if err := os.MkdirAll(filepath.Join("files", filepath.FromSlash(path.Dir(rel))), 0o755); err != nil {
					log.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join("files", filepath.FromSlash(rel)), data, 0o644); err != nil {
					log.Fatal(err)
				}
				sum := sha256.Sum256(data)
				files = append(files, file{name, lang, int64(len(data)), hex.EncodeToString(sum[:]), rel})
			}
			for _, ed := range v.editions {
				out.Versions = append(out.Versions, version{v.version, v.released, ed, files})
			}
		}
		doc.Products = append(doc.Products, out)
	}
	rng := rand.New(rand.NewChaCha8(seed("openlsc demo product keys v1")))
	for _, k := range keys {
		out := key{Agreement: k.agreement, Product: k.product, Type: k.typ, Key: productKey(rng)}
		if k.typ == "mak" {
			limit, used := k.limit, k.used
			out.ActivationLimit, out.ActivationsUsed, out.ActivationsAsOf = &limit, &used, activationsAsOf
		}
		doc.Keys = append(doc.Keys, out)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("demo.json", buf.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}

// content returns a demo file: a text header, then pseudo-random bytes
// seeded by the path, 1.5 to 6 KiB in all.
func content(title, lang, rel string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "OpenLSC demo file: %s (%s)\n", title, lang)
	fmt.Fprintf(&b, "Path: %s\n", rel)
	b.WriteString("This is not real software. It stands in for installation media in the\n")
	b.WriteString("demonstration data set that `openlsc serve --dev` loads.\n\n")
	rng := rand.New(rand.NewChaCha8(seed("openlsc demo file " + rel)))
	size := 1536 + rng.IntN(4608)
	for b.Len() < size {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], rng.Uint64())
		b.Write(w[:min(8, size-b.Len())])
	}
	return b.Bytes()
}

// productKey returns a made-up key in the 5x5 form XXXXX-XXXXX-XXXXX-XXXXX-XXXXX.
func productKey(rng *rand.Rand) string {
	groups := make([]string, 5)
	for i := range groups {
		var g [5]byte
		for j := range g {
			g[j] = keyAlphabet[rng.IntN(len(keyAlphabet))]
		}
		groups[i] = string(g[:])
	}
	return strings.Join(groups, "-")
}

func seed(s string) [32]byte { return sha256.Sum256([]byte(s)) }
