package kafkax

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"syscall"
	"time"
)

// ErrNotKafka: something answered at a broker address, but not in the Kafka protocol — a broker list
// pointing at an HTTP, Redis or ClickHouse port.
var ErrNotKafka = errors.New("not a Kafka broker")

// ErrNeedsSASL: a broker answered ApiVersions and then closed the connection at the first request that
// needs an authenticated client — a SASL listener, met without --kafka-sasl-mechanism.
var ErrNeedsSASL = errors.New("the broker wants SASL authentication (--kafka-sasl-mechanism, --kafka-user, --kafka-password)")

// maxProbeResponse bounds the answer to the probe: an ApiVersions response is a few hundred bytes.
const maxProbeResponse = 1 << 20

// Probe sends addr an ApiVersions request over a connection of its own and checks that what comes back
// is framed as the answer to it: a sane size and the request's correlation id. kafka-go takes whatever
// comes back for a response: an HTTP server's "HTTP/1.1 400" reads as a 1.2 GB frame whose arrays have
// garbage lengths, and its client allocated 4.6 GB in five seconds before timing out with "context
// deadline exceeded". An address that refuses or drops the connection is unreachable, not ErrNotKafka.
// With sec.TLS the probe speaks TLS first, as the clients do; SASL it needs not (Kafka answers ApiVersions
// before authentication). A TLS listener probed in plaintext closes the connection without a word; if it
// then completes a TLS handshake, that is reported as ErrNotKafka with the hint to turn TLS on. Without
// sec.SASL the probe also asks for Metadata, which a SASL listener refuses before authentication by
// closing the connection: twice so, that is ErrNeedsSASL.
func Probe(ctx context.Context, addr string, sec Security) error {
	err := probe(ctx, addr, sec)
	if errors.Is(err, ErrNeedsSASL) {
		// A broker shutting down also closes connections: only a second closed connection, a moment
		// later, is taken for a SASL listener.
		select {
		case <-ctx.Done():
			return err
		case <-time.After(200 * time.Millisecond):
		}
		err = probe(ctx, addr, sec)
	}
	return err
}

func probe(ctx context.Context, addr string, sec Security) error {
	nd := &net.Dialer{Timeout: 5 * time.Second}
	var conn net.Conn
	var err error
	if sec.TLS != nil {
		conn, err = (&tls.Dialer{NetDialer: nd, Config: sec.TLS}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = nd.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return fmt.Errorf("kafka: %s: %w", addr, err)
	}
	defer conn.Close()
	deadline := time.Now().Add(5 * time.Second)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	_ = conn.SetDeadline(deadline)
	const correlation = 0x7e9c0a11
	// ApiVersions v0: every broker answers it, if only with UNSUPPORTED_VERSION.
	if _, err := conn.Write(probeRequest(18, 0, correlation, nil)); err != nil {
		return fmt.Errorf("kafka: %s: %w", addr, err)
	}
	head := make([]byte, 8)
	n, err := io.ReadFull(conn, head)
	if n == 0 && err != nil {
		if sec.TLS == nil && speaksTLS(ctx, addr) {
			return fmt.Errorf("kafka: %s answers only TLS, not plaintext (--kafka-tls): %w", addr, ErrNotKafka)
		}
		return fmt.Errorf("kafka: %s: no answer to ApiVersions: %w", addr, err)
	}
	size := int32(binary.BigEndian.Uint32(head))
	if n < 8 || size < 4 || size > maxProbeResponse || binary.BigEndian.Uint32(head[4:]) != correlation {
		return fmt.Errorf("kafka: %s answered %s to an ApiVersions request: %w", addr, strconv.Quote(string(head[:n])), ErrNotKafka)
	}
	if sec.SASL != nil {
		return nil
	}
	// Without SASL, a request an unauthenticated client may not make tells a SASL listener: Kafka closes
	// the connection at it ("Unexpected Kafka request of type METADATA during SASL handshake"). Metadata
	// v1 of no topics asks for the brokers only.
	if _, err := io.CopyN(io.Discard, conn, int64(size-4)); err != nil {
		return fmt.Errorf("kafka: %s: reading the ApiVersions answer: %w", addr, err)
	}
	noTopics := []byte{0, 0, 0, 0} // Metadata v1: an empty topic array means none
	if _, err := conn.Write(probeRequest(3, 1, correlation+1, noTopics)); err != nil {
		return fmt.Errorf("kafka: %s: %w", addr, err)
	}
	if n, err := io.ReadFull(conn, head); n == 0 && (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)) {
		return fmt.Errorf("kafka: %s closed the connection at a Metadata request: %w", addr, ErrNeedsSASL)
	}
	return nil
}

// probeRequest frames a request of the probe: size, API key and version, correlation id, client id, body.
func probeRequest(key, version int16, correlation uint32, body []byte) []byte {
	const client = "teplokarta-probe"
	req := make([]byte, 4+2+2+4+2+len(client), 4+2+2+4+2+len(client)+len(body))
	binary.BigEndian.PutUint32(req[0:], uint32(len(req)+len(body)-4))
	binary.BigEndian.PutUint16(req[4:], uint16(key))
	binary.BigEndian.PutUint16(req[6:], uint16(version))
	binary.BigEndian.PutUint32(req[8:], correlation)
	binary.BigEndian.PutUint16(req[12:], uint16(len(client)))
	copy(req[14:], client)
	return append(req, body...)
}

// speaksTLS reports whether addr completes a TLS handshake: a listener that closed a plaintext request
// without a word may be a TLS one. Only the protocol is asked, not who the server is.
func speaksTLS(ctx context.Context, addr string) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	d := &tls.Dialer{Config: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // a protocol check; no data is sent
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}
