package auth

import (
	"errors"
	"strings"
	"testing"

	"github.com/teplokarta/teplokarta/internal/model"
)

func TestLocalTokens(t *testing.T) {
	l, err := NewLocal()
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewLocal()
	const agency = "Администрация Шиловского муниципального района Рязанской области"
	forged := l.AgencyToken(agency)
	forged = forged[:strings.LastIndexByte(forged, '.')] + ".0000000000000000000000000000000000000000"
	swapped := "ag1." + strings.SplitN(l.AgencyToken("ЖКХ-Рязань"), ".", 3)[1] + "." + strings.SplitN(l.AgencyToken(agency), ".", 3)[2]
	for _, c := range []struct {
		name, header string
		want         Principal
		ok           bool
	}{
		{"curator", "Bearer " + l.CuratorToken(), Principal{Name: CuratorName, Role: model.RoleCurator}, true},
		{"agency", "Bearer " + l.AgencyToken(agency), Principal{Name: agency, Role: model.RoleAgency, Agency: agency}, true},
		{"no bearer", l.CuratorToken(), Principal{}, false},
		{"another run's curator", "Bearer " + other.CuratorToken(), Principal{}, false},
		{"another run's agency", "Bearer " + other.AgencyToken(agency), Principal{}, false},
		{"forged mac", "Bearer " + forged, Principal{}, false},
		{"mac of another agency", "Bearer " + swapped, Principal{}, false},
		{"empty agency", "Bearer ag1.." + l.mac("agency:"), Principal{}, false},
	} {
		got, err := l.Authenticate(c.header)
		if c.ok != (err == nil) || got != c.want {
			t.Errorf("%s: got %+v, %v", c.name, got, err)
		}
		if err != nil && !errors.Is(err, ErrUnauthorized) {
			t.Errorf("%s: error %v is not ErrUnauthorized", c.name, err)
		}
	}
}

func TestLocalSecretAndAny(t *testing.T) {
	if _, err := NewLocalSecret("short"); err == nil {
		t.Fatal("a short secret was accepted")
	}
	a, _ := NewLocalSecret("compose-demo-secret-0001")
	b, _ := NewLocalSecret("compose-demo-secret-0001")
	if a.AgencyToken("ЖКХ-Рязань") != b.AgencyToken("ЖКХ-Рязань") || a.CuratorToken() != b.CuratorToken() {
		t.Fatal("the same secret gave different tokens")
	}
	file, err := New(File{Curators: map[string][]string{"ivanova": {"curator-token-00000001"}}})
	if err != nil {
		t.Fatal(err)
	}
	both := Any{file, a}
	for _, c := range []struct {
		header string
		name   string
	}{
		{"Bearer curator-token-00000001", "ivanova"},
		{"Bearer " + b.AgencyToken("ЖКХ-Рязань"), "ЖКХ-Рязань"},
		{"Bearer nope-nope-nope-nope", ""},
	} {
		p, err := both.Authenticate(c.header)
		if p.Name != c.name || (err == nil) != (c.name != "") {
			t.Errorf("%s: %+v %v", c.header, p, err)
		}
		if err != nil && !errors.Is(err, ErrUnauthorized) {
			t.Errorf("%s: %v is not ErrUnauthorized", c.header, err)
		}
	}
}
