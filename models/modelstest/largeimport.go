package modelstest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"

	"github.com/openlsc/openlsc/models"
)

// LargeImport generates an import of nAgreements agreements (a tenth of
// them MBSAs with enrollments under them) and two keys per agreement.
func LargeImport(nAgreements int) *models.ImportDocument {
	var b bytes.Buffer
	if err := WriteLargeImport(&b, nAgreements, 2); err != nil {
		panic(err) // a bytes.Buffer does not fail
	}
	doc, err := models.DecodeImport(&b)
	if err != nil {
		panic(fmt.Sprintf("the generated import does not decode: %v", err))
	}
	return doc
}

// WriteLargeImport writes, as JSON and without holding it, an import of
// nAgreements agreements (a tenth of them MBSAs with their organization's
// administrator as contact, the others enrollments under them), one
// organization per MBSA, one entitlement per agreement and keysPer keys
// per agreement: the first a MAK with activation counts, the others KMS
// keys.
func WriteLargeImport(w io.Writer, nAgreements, keysPer int) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	fmt.Fprint(bw, `{"organizations": [`)
	for i := 0; i < nAgreements/10; i++ {
		fmt.Fprintf(bw, "%s\n{\"number\": \"C%07d\", \"name\": \"Customer %d\"}", comma(i), i, i)
	}
	fmt.Fprint(bw, "],\n\"agreements\": [")
	for i := 0; i < nAgreements; i++ {
		fmt.Fprintf(bw, "%s\n{\"organization\": \"C%07d\", \"number\": \"A%08d\", ", comma(i), i/10, i)
		if i%10 == 0 {
			fmt.Fprintf(bw, `"program": "mbsa", "contacts": [{"email": "admin%d@customer.example", "role": "primary"}]}`, i/10)
		} else {
			fmt.Fprintf(bw, `"program": "enterprise", "parent": "A%08d", "starts": "2026-01-01", "ends": "2028-12-31"}`, i-i%10)
		}
	}
	fmt.Fprint(bw, "],\n"+`"products": [{"id": "win-ent", "name": "Windows Enterprise", "versions": [`+
		`{"version": "11 24H2", "edition": "Enterprise"}, {"version": "10 22H2", "edition": "Enterprise"}]}],`+"\n"+`"entitlements": [`)
	for i := 0; i < nAgreements; i++ {
		fmt.Fprintf(bw, "%s\n{\"agreement\": \"A%08d\", \"product\": \"win-ent\", \"version\": \"11 24H2\"}", comma(i), i)
	}
	fmt.Fprint(bw, "],\n\"keys\": [")
	for i := 0; i < nAgreements; i++ {
		for k := 0; k < keysPer; k++ {
			fmt.Fprintf(bw, "%s\n{\"agreement\": \"A%08d\", \"product\": \"win-ent\", ", comma(i+k), i)
			if k == 0 {
				fmt.Fprintf(bw, `"type": "mak", "key": "MAK%08d-XXXXX-YYYYY", "activation_limit": 500, "activations_used": 120}`, i)
			} else {
				fmt.Fprintf(bw, `"type": "kms", "key": "KMS%08d-%05d-YYYYY"}`, i, k)
			}
		}
	}
	fmt.Fprint(bw, "]}\n")
	return bw.Flush()
}

func comma(i int) string {
	if i == 0 {
		return ""
	}
	return ","
}
