package kafkax

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"
)

// Security is how teplokarta's Kafka clients connect: TLS and SASL, built once from SecurityConfig. The
// zero value is plaintext without authentication (the embedded broker, compose's private network).
// Managed Kafka services (and any broker reachable beyond one private network) want SASL over TLS.
type Security struct {
	TLS  *tls.Config    // nil: plaintext
	SASL sasl.Mechanism // nil: no authentication
}

// LogValue names the protocol and mechanism, never the credentials the mechanism holds.
func (s Security) LogValue() slog.Value { return slog.StringValue(s.String()) }

// String is Kafka's name of the protocol, with the SASL mechanism.
func (s Security) String() string {
	switch {
	case s.TLS == nil && s.SASL == nil:
		return "PLAINTEXT"
	case s.SASL == nil:
		return "SSL"
	case s.TLS == nil:
		return "SASL_PLAINTEXT " + s.SASL.Name()
	default:
		return "SASL_SSL " + s.SASL.Name()
	}
}

// SASL mechanisms SecurityConfig accepts (Kafka's names).
const (
	MechanismPlain       = "PLAIN"
	MechanismScramSHA256 = "SCRAM-SHA-256"
	MechanismScramSHA512 = "SCRAM-SHA-512"
)

// SecurityConfig is Security as flags give it.
type SecurityConfig struct {
	TLS        bool   // connect with TLS (implied by CAFile and ServerName)
	CAFile     string // PEM bundle of the CAs the brokers' certificates chain to; empty: the system's
	ServerName string // the name the brokers' certificates carry, when it is not the host dialed
	// Mechanism is "" (no SASL), PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512. PLAIN sends the password as it
	// is, so it is refused without TLS.
	Mechanism      string
	User, Password string
}

// tlsOn reports whether the clients connect with TLS: asked for, or implied by a CA file or server name.
func (c SecurityConfig) tlsOn() bool { return c.TLS || c.CAFile != "" || c.ServerName != "" }

// Validate reports every mistake at once (the CA file's content is checked by Build).
func (c SecurityConfig) Validate() error {
	mech := strings.ToUpper(c.Mechanism)
	if mech == "" {
		if c.User != "" || c.Password != "" {
			return errors.New("kafka: a user or password without a SASL mechanism (--kafka-sasl-mechanism)")
		}
		return nil
	}
	var errs []error
	if mech == MechanismPlain && !c.tlsOn() {
		errs = append(errs, errors.New("kafka: SASL PLAIN sends the password in clear: it needs TLS (--kafka-tls)"))
	}
	if err := CheckMechanism(mech, c.User, c.Password); err != nil {
		errs = append(errs, fmt.Errorf("kafka: %w", err))
	}
	return errors.Join(errs...)
}

// CheckMechanism checks a SASL mechanism (Kafka's name, as given) and that it has a user and password:
// the clients' settings and the embedded broker's user alike.
func CheckMechanism(mechanism, user, password string) error {
	switch mechanism {
	case MechanismPlain, MechanismScramSHA256, MechanismScramSHA512:
		if user == "" || password == "" {
			return fmt.Errorf("SASL %s needs a user and a password", mechanism)
		}
		return nil
	}
	return fmt.Errorf("SASL mechanism %q: want %s, %s or %s", mechanism, MechanismPlain, MechanismScramSHA256, MechanismScramSHA512)
}

// Build validates c and makes the Security its clients use.
func (c SecurityConfig) Build() (Security, error) {
	if err := c.Validate(); err != nil {
		return Security{}, err
	}
	var s Security
	if c.tlsOn() {
		s.TLS = &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.ServerName}
		if c.CAFile != "" {
			pem, err := os.ReadFile(c.CAFile)
			if err != nil {
				return Security{}, fmt.Errorf("kafka: CA file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return Security{}, fmt.Errorf("kafka: CA file %s holds no PEM certificate", c.CAFile)
			}
			s.TLS.RootCAs = pool
		}
	}
	var err error
	switch strings.ToUpper(c.Mechanism) {
	case MechanismPlain:
		s.SASL = plain.Mechanism{Username: c.User, Password: c.Password}
	case MechanismScramSHA256:
		s.SASL, err = scram.Mechanism(scram.SHA256, c.User, c.Password)
	case MechanismScramSHA512:
		s.SASL, err = scram.Mechanism(scram.SHA512, c.User, c.Password)
	}
	if err != nil {
		return Security{}, fmt.Errorf("kafka: SASL: %w", err)
	}
	return s, nil
}

// Dialer is a kafka-go Dialer (Readers, consumer groups) with s's TLS and SASL.
func (s Security) Dialer(clientID string) *kafka.Dialer {
	return &kafka.Dialer{Timeout: 5 * time.Second, DualStack: true, ClientID: clientID, TLS: s.TLS, SASLMechanism: s.SASL}
}
