package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/internal/broker"
	"github.com/teplokarta/teplokarta/internal/kafkax"
)

// SecureBroker is an embedded broker that wants SASL over TLS, as a managed Kafka service does, and what a
// client needs to reach it.
type SecureBroker struct {
	*broker.Broker
	CAFile            string // PEM of the CA that signed the broker's certificate (for 127.0.0.1 and localhost)
	CertFile, KeyFile string // the broker's certificate and key (teplokarta broker --tls-cert-file, --tls-key-file)
	Mechanism         string // SCRAM-SHA-512
	User, Password    string
	Config            kafkax.SecurityConfig // what a client is given
	Security          kafkax.Security       // Config built
	WrongPassword     kafkax.Security       // the same with another password (with SASL)
}

// TLSFiles writes a CA and a server certificate for 127.0.0.1 and localhost signed by it into dir, as PEM.
func TLSFiles(t testing.TB, dir string) (caFile, certFile, keyFile string) {
	t.Helper()
	must := func(err error) {
		if err != nil {
			t.Fatalf("testenv: TLS files: %v", err)
		}
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	now := time.Now()
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "teplokarta test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	must(err)
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	srv := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	srvDER, err := x509.CreateCertificate(rand.Reader, srv, ca, &srvKey.PublicKey, caKey)
	must(err)
	keyDER, err := x509.MarshalECPrivateKey(srvKey)
	must(err)
	write := func(name, kind string, der []byte) string {
		p := filepath.Join(dir, name)
		must(os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600))
		return p
	}
	return write("ca.pem", "CERTIFICATE", caDER), write("broker.pem", "CERTIFICATE", srvDER), write("broker-key.pem", "EC PRIVATE KEY", keyDER)
}

// NewSecureBroker starts an embedded broker on a free port that takes only TLS connections, authenticated
// with SASL SCRAM-SHA-512 if withSASL, persisted in a temporary folder.
func NewSecureBroker(t testing.TB, withSASL bool) *SecureBroker {
	t.Helper()
	dir := t.TempDir()
	s := &SecureBroker{Mechanism: kafkax.MechanismScramSHA512, User: "teplokarta", Password: "kafka'secret\\pw"}
	s.CAFile, s.CertFile, s.KeyFile = TLSFiles(t, dir)
	cfg := broker.DefaultConfig()
	cfg.Port, cfg.DataDir = 0, filepath.Join(dir, "data")
	var err error
	if cfg.TLS, err = broker.ListenerTLS(s.CertFile, s.KeyFile); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	if withSASL {
		cfg.SASL = broker.SASLUser{Mechanism: s.Mechanism, User: s.User, Password: s.Password}
	}
	if s.Broker, err = broker.Start(cfg, nil); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(s.Broker.Close)
	s.Config = kafkax.SecurityConfig{CAFile: s.CAFile}
	if withSASL {
		s.Config.Mechanism, s.Config.User, s.Config.Password = s.Mechanism, s.User, s.Password
	}
	build := func(c kafkax.SecurityConfig) kafkax.Security {
		sec, err := c.Build()
		if err != nil {
			t.Fatalf("testenv: %v", err)
		}
		return sec
	}
	s.Security = build(s.Config)
	if withSASL {
		wrong := s.Config
		wrong.Password = "not-" + s.Password
		s.WrongPassword = build(wrong)
	}
	return s
}
