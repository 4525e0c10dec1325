package activation_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"testing"
	"time"

	"github.com/openlsc/openlsc/api/activation"
)

func TestSameInstallation(t *testing.T) {
	base := map[string]string{"board": "MB1", "disk": "D1", "mac": "M1", "cpu": "C1"}
	changed := func(kinds ...string) activation.Identity {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for _, k := range kinds {
			m[k] += "-new"
		}
		return activation.NewIdentity(m)
	}
	a := changed()
	for _, c := range []struct {
		kinds []string
		same  bool
	}{
		{nil, true}, {[]string{"board"}, true}, {[]string{"board", "disk"}, false}, {[]string{"board", "disk", "mac"}, false},
	} {
		if got := activation.SameInstallation(a, changed(c.kinds...)); got != c.same {
			t.Errorf("%v changed: same %v, want %v", c.kinds, got, c.same)
		}
	}
	if activation.SameInstallation(nil, nil) {
		t.Error("two empty identities are the same installation")
	}
}

func TestCertificate(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	id := activation.NewIdentity(map[string]string{"board": "MB1", "disk": "D1"})
	cert, err := activation.Sign(activation.Claims{Product: "win-ent", Components: id, IssuedAt: time.Now()}, "k1", priv)
	if err != nil {
		t.Fatal(err)
	}
	ks := activation.KeySet{Keys: []activation.PublicKey{activation.NewPublicKey("k1", pub, true, time.Now())}}
	if _, err := ks.VerifyFor(cert, "win-ent", id); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.VerifyFor(cert, "office", id); err == nil {
		t.Error("verified for another product")
	}
	bad := *cert
	bad.Signature = cert.Signature[:10] + "AAAA" + cert.Signature[14:]
	if _, err := ks.Verify(&bad); err == nil {
		t.Error("a changed signature verified")
	}
	bad = *cert
	bad.KeyID = "k2"
	if _, err := ks.Verify(&bad); err == nil {
		t.Error("an unknown key id verified")
	}
}

func TestOfflineIDs(t *testing.T) {
	id := activation.NewIdentity(map[string]string{"board": "MB1", "disk": "D1", "mac": "M1", "cpu": "C1"})
	iid := activation.InstallationID(id)
	back, err := activation.ParseInstallationID(iid)
	if err != nil || !activation.SameInstallation(back, id) || activation.Common(back, id) != 4 {
		t.Fatalf("%s: %v %v", iid, back, err)
	}
	wrong := []byte(iid)
	if wrong[0] == '9' {
		wrong[0] = '8'
	} else {
		wrong[0]++
	}
	if _, err := activation.ParseInstallationID(string(wrong)); err == nil {
		t.Error("a misheard digit parsed")
	}
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	ks := activation.KeySet{Keys: []activation.PublicKey{activation.NewPublicKey("k1", pub, true, time.Now())}}
	cid := activation.ConfirmationID(priv, "win-ent", iid)
	if err := ks.CheckConfirmation(cid, "win-ent", iid); err != nil {
		t.Fatalf("%s: %v", cid, err)
	}
	if err := ks.CheckConfirmation(cid, "office", iid); err == nil {
		t.Error("confirmed for another product")
	}
	other := activation.InstallationID(activation.NewIdentity(map[string]string{"board": "MB2"}))
	if err := ks.CheckConfirmation(cid, "win-ent", other); err == nil {
		t.Error("confirmed another installation")
	}
}
