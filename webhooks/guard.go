package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Guard keeps deliveries off Rapport's own network (server-side request
// forgery): an endpoint must be HTTPS, and the address a delivery
// connects to, resolved at connect time, must be a public one, never
// loopback, private, link-local (the cloud metadata service), shared
// (carrier-grade NAT), multicast or unspecified. Checking the address the
// dialer is about to connect to, not the name registered, is what keeps
// DNS rebinding out.
type Guard struct {
	// AllowHTTP takes http:// endpoints (WEBHOOK_ALLOW_HTTP): a local
	// setting, never in a deployed stack.
	AllowHTTP bool
	// AllowLoopback takes loopback addresses (WEBHOOK_ALLOW_LOOPBACK):
	// for the tests' and a laptop's local receiver only.
	AllowLoopback bool
}

// ErrRefused is a target the guard refuses.
var ErrRefused = errors.New("webhooks: target refused")

// CheckURL checks an endpoint's URL as registered: its scheme, and its
// host when that is an address or "localhost". Names are checked again,
// resolved, at every connection.
func (g Guard) CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || !u.IsAbs() {
		return errors.New("must be an absolute URL")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && g.AllowHTTP:
	default:
		return errors.New("must use https")
	}
	if u.User != nil {
		return errors.New("must not carry credentials")
	}
	if u.Fragment != "" {
		return errors.New("must not have a fragment")
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		host = "127.0.0.1"
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if err := g.checkAddr(ip); err != nil {
			return err
		}
	}
	return nil
}

// checkAddr refuses what a delivery must not reach.
func (g Guard) checkAddr(ip netip.Addr) error {
	ip = ip.Unmap()
	switch {
	case ip.IsLoopback():
		if g.AllowLoopback {
			return nil
		}
		return fmt.Errorf("%w: %s is a loopback address", ErrRefused, ip)
	case ip.IsPrivate():
		return fmt.Errorf("%w: %s is a private address", ErrRefused, ip)
	case ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast():
		return fmt.Errorf("%w: %s is a link-local address (the metadata service's)", ErrRefused, ip)
	case ip.IsUnspecified() || ip.IsMulticast() || ip.IsInterfaceLocalMulticast():
		return fmt.Errorf("%w: %s is not a unicast address", ErrRefused, ip)
	case sharedSpace.Contains(ip), benchmarking.Contains(ip), ip.Is4() && ip.As4()[0] == 0, ip.Is4() && ip.As4()[0] >= 240:
		return fmt.Errorf("%w: %s is a reserved address", ErrRefused, ip)
	case nat64.Contains(ip):
		// The IPv4 address it translates to must pass too.
		b := ip.As16()
		return g.checkAddr(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
	}
	return nil
}

var (
	sharedSpace  = netip.MustParsePrefix("100.64.0.0/10")
	benchmarking = netip.MustParsePrefix("198.18.0.0/15")
	nat64        = netip.MustParsePrefix("64:ff9b::/96")
)

// control is the dialer's check of the address it is about to connect to.
func (g Guard) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s is not an address", ErrRefused, address)
	}
	return g.checkAddr(ap.Addr())
}

// Limits bound one attempt.
const (
	ConnectTimeout = 5 * time.Second
	// AttemptTimeout bounds an attempt from dialing to the last byte read.
	AttemptTimeout = 15 * time.Second
	// MaxResponse is how much of a response is read; the rest is dropped.
	MaxResponse = 64 << 10
)

// Client is the HTTP client of deliveries: the guard's dialer, no proxy
// from the environment, bounded times, and no redirects followed (a 3xx
// is a failed attempt).
func (g Guard) Client() *http.Client {
	d := &net.Dialer{Timeout: ConnectTimeout, Control: g.control}
	return &http.Client{
		Timeout: AttemptTimeout,
		Transport: &http.Transport{
			Proxy: nil,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				return d.DialContext(ctx, network, addr)
			},
			TLSHandshakeTimeout:   ConnectTimeout,
			ResponseHeaderTimeout: AttemptTimeout,
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       30 * time.Second,
			ForceAttemptHTTP2:     true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
