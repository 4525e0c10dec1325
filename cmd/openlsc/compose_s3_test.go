package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"go.yaml.in/yaml/v3"

	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/models/demo"
)

// composeService is the part of a docker-compose.yml service the test
// runs: its entrypoint, command and environment (merge keys resolved).
type composeService struct {
	Entrypoint  []string          `yaml:"entrypoint"`
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
	Healthcheck struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
}

// composeVars are the values the test gives the variables of
// docker-compose.yml (as a .env file would).
var composeVars = map[string]string{"S3_ACCESS_KEY": "composeTestKey1", "S3_SECRET_KEY": "composeTestSecret1"}

// composeInterpolate resolves $$, ${NAME}, ${NAME:-default} and
// ${NAME:?message} in s as docker-compose does, from composeVars.
func composeInterpolate(t *testing.T, s string) string {
	t.Helper()
	re := regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-?])([^}]*))?\}`)
	return re.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		g := re.FindStringSubmatch(m)
		if v, ok := composeVars[g[1]]; ok && v != "" {
			return v
		}
		if g[2] == "-" {
			return g[3]
		}
		t.Fatalf("docker-compose.yml uses ${%s}, which the test does not set", g[1])
		return ""
	})
}

// composeServices reads the services of ../../docker-compose.yml.
func composeServices(t *testing.T) map[string]composeService {
	t.Helper()
	raw, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Services map[string]composeService `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &f); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return f.Services
}

// replaceOnce replaces old by new in s, failing the test unless old occurs
// (so that a change of docker-compose.yml shows here).
func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	if !strings.Contains(s, old) {
		t.Fatalf("%q is no longer in the compose command %q: update the test", old, s)
	}
	return strings.ReplaceAll(s, old, new)
}

// freePorts returns n free TCP ports of 127.0.0.1.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// composeShell runs a compose service's entrypoint and command (after the
// rewrites) with weed on the PATH and the service's environment.
func composeShell(ctx context.Context, weed string, svc composeService, command string, env map[string]string) *exec.Cmd {
	args := append(append([]string{}, svc.Entrypoint[1:]...), command)
	cmd := exec.CommandContext(ctx, svc.Entrypoint[0], args...)
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(weed)+string(os.PathListSeparator)+os.Getenv("PATH"))
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd
}

// seaweed is the object store of the compose deployment running here.
type seaweed struct {
	s3Host string // 127.0.0.1:port of the S3 gateway (8333 in compose)
}

// startComposeS3 runs the compose file's s3 service (SeaweedFS: its
// printf of the identities and its `weed server` command line) with the
// weed binary at weed, on free loopback ports and a temporary directory,
// waits for its health check, then runs the s3-init command against it.
func startComposeS3(t *testing.T, weed string, services map[string]composeService) seaweed {
	t.Helper()
	s3, initSvc := services["s3"], services["s3-init"]
	if len(s3.Command) != 1 || len(initSvc.Command) != 1 || len(s3.Entrypoint) < 2 {
		t.Fatalf("the s3 and s3-init services are no longer `sh -c` with one command: %+v %+v", s3, initSvc)
	}
	dir := t.TempDir()
	p := freePorts(t, 8)
	master, s3Port := fmt.Sprint(p[0]), fmt.Sprint(p[1])
	cmd := composeInterpolate(t, s3.Command[0])
	cmd = replaceOnce(t, cmd, "-dir=/data", "-dir="+filepath.Join(dir, "data"))
	cmd = replaceOnce(t, cmd, "/tmp/s3.json", filepath.Join(dir, "s3.json"))
	cmd = replaceOnce(t, cmd, "-s3.port=8333", "-s3.port="+s3Port)
	// Loopback only, and every other port free (the machine is shared):
	// the compose container has the default ports to itself.
	cmd = replaceOnce(t, cmd, "-ip.bind=0.0.0.0", fmt.Sprintf("-ip.bind=127.0.0.1 -ip=127.0.0.1 -master.port=%s -master.port.grpc=%d "+
		"-volume.port=%d -volume.port.grpc=%d -filer.port=%d -filer.port.grpc=%d -s3.port.grpc=%d "+
		"-s3.port.iceberg=0 -s3.port.lance=0 -master.telemetry=false", master, p[2], p[3], p[4], p[5], p[6], p[7]))
	if err := os.Mkdir(filepath.Join(dir, "data"), 0o750); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for k, v := range s3.Environment {
		env[k] = composeInterpolate(t, v)
	}
	ctx, cancel := context.WithCancel(context.Background())
	server := composeShell(ctx, weed, s3, cmd, env)
	logs := &syncBuffer{}
	server.Stdout, server.Stderr = logs, logs
	if err := server.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = server.Wait()
		if t.Failed() {
			t.Logf("weed server %s:\n%s", cmd, logs)
		}
	})

	// The compose health check (wget of the master's cluster status), then
	// s3-init, retried while the filer and the gateway start.
	health := s3.Healthcheck.Test[len(s3.Healthcheck.Test)-1]
	health = replaceOnce(t, health, "127.0.0.1:9333", "127.0.0.1:"+master)
	waitFor(t, 60*time.Second, "the s3 service's health check "+health, func() error {
		resp, err := http.Get(health)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})
	initCmd := replaceOnce(t, initSvc.Command[0], "-master=s3:9333", fmt.Sprintf("-master=127.0.0.1:%s.%d", master, p[2])) // host:port.grpcPort: the grpc port is not port+10000 here
	waitFor(t, 60*time.Second, "s3-init: "+initCmd, func() error {
		out, err := composeShell(ctx, weed, initSvc, initCmd, nil).CombinedOutput()
		if err != nil || strings.Contains(strings.ToLower(string(out)), "error") {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	})
	return seaweed{s3Host: "127.0.0.1:" + s3Port}
}

// waitFor calls try until it succeeds, failing the test after d.
func waitFor(t *testing.T, d time.Duration, what string, try func() error) {
	t.Helper()
	var err error
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		if err = try(); err == nil {
			return
		}
	}
	t.Fatalf("%s: %v", what, err)
}

// uploadDemoFiles puts the demo download files into the bucket and prefix
// of the storage URL, with the compose credentials, as an operator would
// with any S3 client.
func uploadDemoFiles(t *testing.T, storageURL, key, secret string) {
	t.Helper()
	opts, err := app.ParseS3URL(storageURL)
	if err != nil {
		t.Fatal(err)
	}
	c, err := minio.New(opts.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(key, secret, ""),
		Secure: opts.Secure, Region: opts.Region, BucketLookup: minio.BucketLookupPath})
	if err != nil {
		t.Fatal(err)
	}
	files := demo.Files()
	err = fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := files.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		info, err := f.Stat()
		if err != nil {
			return err
		}
		_, err = c.PutObject(context.Background(), opts.Bucket, opts.Prefix+name, f, info.Size(), minio.PutObjectOptions{})
		return err
	})
	if err != nil {
		t.Fatalf("upload the demo files to %s: %v", storageURL, err)
	}
}

// composeStorageURL is the replicas' OPENLSC_STORAGE_URL with the store's
// host rewritten to host and, when mode is not "", another mode.
func composeStorageURL(t *testing.T, replica composeService, host, mode string) string {
	t.Helper()
	raw := composeInterpolate(t, replica.Environment["OPENLSC_STORAGE_URL"])
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	ep, err := url.Parse(q.Get("endpoint"))
	if err != nil || ep.Host == "" {
		t.Fatalf("the compose storage URL %q has no endpoint URL", raw)
	}
	ep.Host = host
	q.Set("endpoint", ep.String())
	if mode != "" {
		if q.Get("mode") == "" {
			t.Fatalf("the compose storage URL %q names no mode", raw)
		}
		q.Set("mode", mode)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// demoFile is a file the signed-in user may download, as the API lists it.
type demoFile struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// firstDownload is the first file of at least 64 bytes that c may
// download, and a signed /dl link to it.
func firstDownload(t *testing.T, c *http.Client, base string) (demoFile, string) {
	t.Helper()
	_, body := getWith(t, c, base+"/api/v1/downloads")
	var list struct {
		Products []struct {
			Versions []struct {
				Files []demoFile `json:"files"`
			} `json:"versions"`
		} `json:"products"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatalf("downloads: %v: %s", err, body)
	}
	for _, p := range list.Products {
		for _, v := range p.Versions {
			for _, f := range v.Files {
				if f.Size < 64 {
					continue
				}
				code, body := callJSON(t, c, http.MethodPost, fmt.Sprintf("%s/api/v1/downloads/%d/link", base, f.ID), nil)
				var l struct {
					URL string `json:"url"`
				}
				if err := json.Unmarshal([]byte(body), &l); code != http.StatusOK || err != nil || !strings.HasPrefix(l.URL, "/dl/") {
					t.Fatalf("link of %s: %d %s", f.Name, code, body)
				}
				return f, base + l.URL
			}
		}
	}
	t.Fatalf("no file of 64 bytes or more to download: %s", body)
	return demoFile{}, ""
}

// fetch GETs u with c and the headers given as name, value pairs.
func fetch(t *testing.T, c *http.Client, u string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// checkWhole checks that b is f, whole.
func checkWhole(t *testing.T, how string, resp *http.Response, b []byte, f demoFile) {
	t.Helper()
	sum := sha256.Sum256(b)
	if resp.StatusCode != http.StatusOK || int64(len(b)) != f.Size || hex.EncodeToString(sum[:]) != f.SHA256 {
		t.Errorf("%s: %d, %d bytes, SHA-256 %x; want 200, %d bytes, %s", how, resp.StatusCode, len(b), sum, f.Size, f.SHA256)
	}
}

// checkRange checks that the answer to Range: bytes=from-to (to < 0: to
// the end) is 206 with those bytes of whole and their Content-Range.
func checkRange(t *testing.T, how string, resp *http.Response, b, whole []byte, from, to int) {
	t.Helper()
	end := to
	if to < 0 {
		end = len(whole) - 1
	}
	want := fmt.Sprintf("bytes %d-%d/%d", from, end, len(whole))
	if resp.StatusCode != http.StatusPartialContent || string(b) != string(whole[from:end+1]) || resp.Header.Get("Content-Range") != want {
		t.Errorf("%s: %d %q, %d bytes; want 206 %q, %d bytes", how, resp.StatusCode, resp.Header.Get("Content-Range"), len(b), want, end+1-from)
	}
}

// TestComposeS3Downloads runs the object store of docker-compose.yml
// natively — the s3 service's own command line (SeaweedFS's `weed
// server` with the identities its printf writes) and the s3-init command
// that creates the bucket — puts the demo files where the replicas'
// OPENLSC_STORAGE_URL points, and starts OpenLSC with that URL (only the
// store's host is this machine's) and the credential variables compose
// passes. A demo user's signed /dl link then redirects to a presigned
// SeaweedFS URL that serves the file, a Range and a resume; with
// mode=stream OpenLSC serves them itself. Skipped unless OPENLSC_WEED names
// a weed binary (make compose-s3-check builds one).
func TestComposeS3Downloads(t *testing.T) {
	weed := os.Getenv("OPENLSC_WEED")
	if weed == "" {
		t.Skip("set OPENLSC_WEED to a SeaweedFS weed binary (make compose-s3-check)")
	}
	weed, err := filepath.Abs(weed)
	if err != nil {
		t.Fatal(err)
	}
	services := composeServices(t)
	store := startComposeS3(t, weed, services)
	replica := services["openlsc-1"]
	creds := map[string]string{}
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		creds[k] = composeInterpolate(t, replica.Environment[k])
		t.Setenv(k, creds[k]) // minio-go's credential chain reads the process environment
	}
	uploadDemoFiles(t, composeStorageURL(t, replica, store.s3Host, ""), creds["AWS_ACCESS_KEY_ID"], creds["AWS_SECRET_ACCESS_KEY"])

	t.Run("redirect", func(t *testing.T) {
		storageURL := composeStorageURL(t, replica, store.s3Host, "")
		if !strings.Contains(storageURL, "mode=redirect") || !strings.Contains(storageURL, "presign=5m") {
			t.Fatalf("the compose storage URL is no longer mode=redirect&presign=5m: %s", storageURL)
		}
		m, base, _, _ := startMain(t, map[string]string{"OPENLSC_STORAGE_URL": storageURL})
		c := verifiedPersona(t, m, base, "ea-admin", "ea-admin@contoso.example")
		f, link := firstDownload(t, c, base)
		location := func(header ...string) string {
			resp, _ := fetch(t, c, link, header...)
			loc, err := url.Parse(resp.Header.Get("Location"))
			if resp.StatusCode != http.StatusFound || err != nil || loc.Host != store.s3Host {
				t.Fatalf("/dl: %d to %q, want 302 to the store at %s", resp.StatusCode, resp.Header.Get("Location"), store.s3Host)
			}
			if q := loc.Query(); q.Get("X-Amz-Expires") != "300" || q.Get("X-Amz-Signature") == "" {
				t.Errorf("presigned URL %s: want X-Amz-Expires=300 (presign=5m) and a signature", loc)
			}
			return loc.String()
		}
		resp, whole := fetch(t, http.DefaultClient, location())
		checkWhole(t, "the presigned URL", resp, whole, f)
		browser := *c
		browser.CheckRedirect = nil // follows /dl's redirect, as a browser does
		if resp, b := fetch(t, &browser, link); resp.Request.URL.Host != store.s3Host {
			t.Errorf("following /dl ended at %s, not at the store", resp.Request.URL)
		} else {
			checkWhole(t, "following /dl", resp, b, f)
		}
		if !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
			t.Errorf("the store answers Content-Disposition %q, want the attachment OpenLSC asked for", resp.Header.Get("Content-Disposition"))
		}
		resp, b := fetch(t, http.DefaultClient, location("Range", "bytes=10-19"), "Range", "bytes=10-19")
		checkRange(t, "Range through the presigned URL", resp, b, whole, 10, 19)
		resp, b = fetch(t, http.DefaultClient, location("Range", "bytes=40-"), "Range", "bytes=40-", "If-Range", resp.Header.Get("ETag"))
		checkRange(t, "resume through the presigned URL", resp, b, whole, 40, -1)
	})

	t.Run("stream", func(t *testing.T) {
		m, base, _, _ := startMain(t, map[string]string{"OPENLSC_STORAGE_URL": composeStorageURL(t, replica, store.s3Host, "stream")})
		c := verifiedPersona(t, m, base, "ea-admin", "ea-admin@contoso.example")
		f, link := firstDownload(t, c, base)
		resp, whole := fetch(t, c, link)
		checkWhole(t, "stream", resp, whole, f)
		resp, b := fetch(t, c, link, "Range", "bytes=10-19")
		checkRange(t, "Range through OpenLSC", resp, b, whole, 10, 19)
		resp, b = fetch(t, c, link, "Range", "bytes=40-", "If-Range", resp.Header.Get("ETag"))
		checkRange(t, "resume through OpenLSC", resp, b, whole, 40, -1)
	})
}
