package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestCORSOnlyForConfiguredOrigins(t *testing.T) {
	e := newEnvWith(t, func(c *Config) { c.CORSOrigins = []string{"https://app.example.cn"} })
	pre := e.do(t, req{method: "OPTIONS", path: "/api/v1/towns", header: map[string]string{
		"Origin": "https://app.example.cn", "Access-Control-Request-Method": "POST"}})
	if pre.status != 204 || pre.header.Get("Access-Control-Allow-Origin") != "https://app.example.cn" {
		t.Fatalf("preflight from an allowed origin: %d %v", pre.status, pre.header)
	}
	r := e.do(t, req{method: "GET", path: "/healthz", header: map[string]string{"Origin": "https://evil.example"}})
	if got := r.header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Fatalf("CORS allowed another origin: %q", got)
	}
}

// writeCert writes a self-signed certificate for 127.0.0.1.
func writeCert(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "zhucun test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	_ = os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	_ = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestServeTLS(t *testing.T) {
	if !onEmbedded() {
		t.Skip("serve's embedded store is SQLite")
	}
	dir := t.TempDir()
	cert, key, pool := writeCert(t, dir)
	addr := freeAddr(t)
	env := map[string]string{"ZHUCUN_DATA_DIR": dir, "ZHUCUN_ADDR": addr, "ZHUCUN_TLS_CERT_FILE": cert, "ZHUCUN_TLS_KEY_FILE": key, "ZHUCUN_LOG_LEVEL": "error"}
	cmd := command(env, "serve")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() })
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	deadline := time.Now().Add(60 * time.Second)
	for {
		r, err := client.Get("https://" + addr + "/readyz")
		if err == nil {
			r.Body.Close()
			if r.StatusCode != 200 {
				t.Fatalf("readyz over TLS: %d", r.StatusCode)
			}
			if !strings.Contains(r.Header.Get("Strict-Transport-Security"), "max-age=") {
				t.Error("no HSTS over TLS")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no TLS answer: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Plain HTTP on the TLS port is not served.
	if r, err := http.Get("http://" + addr + "/healthz"); err == nil && r.StatusCode == 200 {
		t.Fatal("plain HTTP answered on the TLS port")
	}
}
