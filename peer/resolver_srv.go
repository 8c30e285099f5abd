package peer

import (
	"context"
	"errors"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/glyph-ipc/glyph/service"
)

// SRVResolver resolves the SRV records of a DNS name: each record's
// target and port become an address "<Scheme>://target:port". All targets
// are returned, whatever their priority and weight: the peer connects to
// every one and spreads its calls over those that are up.
//
// A name that does not exist (NXDOMAIN) resolves to no address, so the
// peer lets go of every connection it had for it; other DNS failures are
// errors, and the peer keeps its connections.
type SRVResolver struct {
	// Service, Proto and Name are as for net.Resolver.LookupSRV: the
	// records of "_Service._Proto.Name", or of Name itself when Service
	// and Proto are empty.
	Service, Proto, Name string
	// Scheme is the scheme of the addresses, "tcp" (the default) or
	// "tls".
	Scheme string
	// Resolver looks the records up; nil means net.DefaultResolver.
	Resolver *net.Resolver
}

// Resolve looks the SRV records up and returns their addresses, sorted.
func (r *SRVResolver) Resolve(ctx context.Context) ([]string, error) {
	res := r.Resolver
	if res == nil {
		res = net.DefaultResolver
	}
	scheme := r.Scheme
	if scheme == "" {
		scheme = "tcp"
	}
	_, srvs, err := res.LookupSRV(ctx, r.Service, r.Proto, r.Name)
	if err != nil {
		var de *net.DNSError
		if errors.As(err, &de) && de.IsNotFound {
			return nil, nil
		}
		if len(srvs) == 0 {
			return nil, wrapErr(service.KindUnavailable, "resolve SRV: "+err.Error(), err)
		}
		// Some records were malformed: use the others.
	}
	addrs := make([]string, 0, len(srvs))
	for _, s := range srvs {
		host := strings.TrimSuffix(s.Target, ".")
		if host == "" {
			continue // "." means the service is not available there
		}
		addrs = append(addrs, scheme+"://"+net.JoinHostPort(host, strconv.Itoa(int(s.Port))))
	}
	slices.Sort(addrs)
	return slices.Compact(addrs), nil
}
