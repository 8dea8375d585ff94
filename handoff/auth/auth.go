// Package auth holds the console's credentials: argon2id password hashes
// and random tokens (session cookies, API tokens) stored only as SHA-256
// digests. It does no I/O.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters for new hashes: OWASP's recommendation (19 MiB,
// two passes, one lane). Stored hashes carry their own parameters, so they
// can be raised later; NeedsRehash tells when a stored hash is weaker.
const (
	argonMemory  = 19 * 1024 // KiB
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// Password length limits, in characters. The upper one bounds the work an
// attacker can make a sign-in do.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 256
)

// ErrMismatch is returned by VerifyPassword for a wrong password.
var ErrMismatch = errors.New("password does not match")

// ValidatePassword says what is wrong with a new password, if anything.
func ValidatePassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < MinPasswordLen:
		return fmt.Errorf("the password must have at least %d characters", MinPasswordLen)
	case n > MaxPasswordLen:
		return fmt.Errorf("the password must have at most %d characters", MaxPasswordLen)
	case strings.TrimSpace(pw) == "":
		return errors.New("the password must not be only spaces")
	}
	return nil
}

// HashPassword returns an argon2id hash of pw in PHC string format.
func HashPassword(pw string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("generate salt: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

type argonParams struct {
	memory  uint32
	time    uint32
	threads uint8
	salt    []byte
	key     []byte
}

func parseHash(hash string) (argonParams, error) {
	var p argonParams
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, errors.New("not an argon2id hash")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, errors.New("unsupported argon2 version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &p.threads); err != nil {
		return p, fmt.Errorf("read argon2 parameters: %w", err)
	}
	if p.memory == 0 || p.memory > 1<<22 || p.time == 0 || p.time > 16 || p.threads == 0 {
		return p, errors.New("argon2 parameters out of range")
	}
	var err error
	if p.salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil {
		return p, fmt.Errorf("read salt: %w", err)
	}
	if p.key, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil || len(p.key) == 0 || len(p.key) > 64 {
		return p, errors.New("read hash")
	}
	return p, nil
}

// VerifyPassword checks pw against hash in constant time. It returns
// ErrMismatch for a wrong password and another error for a hash it
// cannot read.
func VerifyPassword(hash, pw string) error {
	p, err := parseHash(hash)
	if err != nil {
		return err
	}
	if utf8.RuneCountInString(pw) > MaxPasswordLen {
		return ErrMismatch
	}
	key := argon2.IDKey([]byte(pw), p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
	if subtle.ConstantTimeCompare(key, p.key) != 1 {
		return ErrMismatch
	}
	return nil
}

// NeedsRehash reports whether hash was made with weaker parameters than
// HashPassword uses now.
func NeedsRehash(hash string) bool {
	p, err := parseHash(hash)
	return err != nil || p.memory < argonMemory || p.time < argonTime || len(p.key) < argonKeyLen
}

// dummyHash is verified when a sign-in names an unknown account, so that
// answering takes as long as for a known one.
// It is made on first use, not at start-up.
var dummyHash = sync.OnceValue(func() string {
	h, err := HashPassword("frontdesk-timing-equalizer")
	if err != nil {
		panic(err)
	}
	return h
})

// BurnTime does the work of one password verification and discards it.
func BurnTime(pw string) {
	_ = VerifyPassword(dummyHash(), pw)
}

// Token prefixes say what a token is when one turns up in a log or a
// secret scanner.
const (
	SessionPrefix  = "fds_"
	APITokenPrefix = "fda_"
)

// NewToken returns a new random token (32 bytes, URL-safe base64, after
// prefix) and the SHA-256 digest to store.
func NewToken(prefix string) (token string, digest []byte, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("generate token: %w", err)
	}
	token = prefix + base64.RawURLEncoding.EncodeToString(b)
	return token, Digest(token), nil
}

// Digest is what is stored for token: its SHA-256. Tokens are random and
// long, so an unsalted fast hash is enough.
func Digest(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// EmailKey is what sign-in rate limiting stores for an address typed at
// sign-in: the SHA-256 of its trimmed, lower-cased form.
func EmailKey(email string) []byte {
	sum := sha256.Sum256([]byte("sign-in:" + NormalizeEmail(email)))
	return sum[:]
}

// NormalizeEmail trims and lower-cases an e-mail address.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// ValidateEmail says whether email looks like an address.
func ValidateEmail(email string) error {
	local, domain, ok := strings.Cut(email, "@")
	if !ok || local == "" || domain == "" || strings.ContainsAny(email, " \t\r\n<>\"") || len(email) > 254 {
		return errors.New("enter an e-mail address such as ana@example.com")
	}
	return nil
}
