package fakecache

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strings"
	"time"
)

// The Azure Storage development account, which Azurite serves. Its key is
// public: it is published in Azure's documentation for the storage emulator.
const (
	DevAccount    = "devstoreaccount1"
	DevAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// SASVersion is the signed version (sv) of the SAS tokens made here. The
// string to sign for versions 2018-11-09 up to (not including) 2020-12-06 has
// no encryption-scope field.
const SASVersion = "2020-10-02"

// sasTime is the ISO 8601 form SAS tokens use.
const sasTime = "2006-01-02T15:04:05Z"

// BlobSAS returns the query string of a service SAS for one blob of the
// development account: permissions such as "r" (read) or "cw" (create,
// write), valid until expiry. Signed per the Azure "service SAS" rules: the
// HMAC-SHA256, keyed with the account key, of
//
//	permissions, start, expiry, canonical resource (/blob/account/container/blob),
//	identifier, IP range, protocol, version, resource ("b"), snapshot time,
//	and the five response-header overrides
//
// joined with newlines.
func BlobSAS(container, blob, permissions string, expiry time.Time) string {
	q := url.Values{}
	q.Set("sv", SASVersion)
	q.Set("sr", "b")
	q.Set("sp", permissions)
	q.Set("se", expiry.UTC().Format(sasTime))
	q.Set("sig", sign(blobStringToSign(q, "/blob/"+DevAccount+"/"+container+"/"+blob)))
	return q.Encode()
}

// AccountSAS returns the query string of an account SAS for the
// development account (services "b", resource types e.g. "sco"), used to
// create containers.
func AccountSAS(permissions, resourceTypes string, expiry time.Time) string {
	q := url.Values{}
	q.Set("sv", SASVersion)
	q.Set("ss", "b")
	q.Set("srt", resourceTypes)
	q.Set("sp", permissions)
	q.Set("se", expiry.UTC().Format(sasTime))
	q.Set("sig", sign(accountStringToSign(q)))
	return q.Encode()
}

func blobStringToSign(q url.Values, resource string) string {
	return strings.Join([]string{
		q.Get("sp"), q.Get("st"), q.Get("se"), resource,
		q.Get("si"), q.Get("sip"), q.Get("spr"), q.Get("sv"), q.Get("sr"), q.Get("snapshot"),
		q.Get("rscc"), q.Get("rscd"), q.Get("rsce"), q.Get("rscl"), q.Get("rsct"),
	}, "\n")
}

func accountStringToSign(q url.Values) string {
	return strings.Join([]string{
		DevAccount, q.Get("sp"), q.Get("ss"), q.Get("srt"), q.Get("st"), q.Get("se"),
		q.Get("sip"), q.Get("spr"), q.Get("sv"), "",
	}, "\n")
}

func sign(s string) string {
	key, _ := base64.StdEncoding.DecodeString(DevAccountKey)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// checkSAS verifies a blob or account SAS for a request on resource
// ("/blob/account/container/blob"), needing one of the permission letters in
// need. It returns an Azure error code, or "" when the SAS is good.
func checkSAS(q url.Values, resource, need string, now time.Time) string {
	var want string
	switch {
	case q.Get("sr") != "":
		want = sign(blobStringToSign(q, resource))
	case q.Get("ss") != "":
		want = sign(accountStringToSign(q))
	default:
		return "NoAuthenticationInformation"
	}
	if !hmac.Equal([]byte(want), []byte(q.Get("sig"))) {
		return "AuthenticationFailed"
	}
	se, err := time.Parse(sasTime, q.Get("se"))
	if err != nil || !now.Before(se) {
		return "AuthenticationFailed"
	}
	if !strings.ContainsAny(q.Get("sp"), need) {
		return "AuthorizationPermissionMismatch"
	}
	return ""
}
