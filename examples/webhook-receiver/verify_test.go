package receiver_test

import (
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	receiver "github.com/rapportcrm/rapport/examples/webhook-receiver"
	"github.com/rapportcrm/rapport/webhooks"
)

// The example partners copy verifies what Rapport signs, with either
// secret of a rotation, and refuses a changed body, another secret and a
// stale timestamp.
func TestTheExampleVerifiesRapportsSignatures(t *testing.T) {
	oldKey, oldSecret := webhooks.NewSecret()
	newKey, newSecret := webhooks.NewSecret()
	_, otherSecret := webhooks.NewSecret()
	now := time.Now()
	body := []byte(`{"type":"rapport.customer.updated"}`)
	h := http.Header{}
	h.Set("webhook-id", "msg_01M8T0000000000000000000AA")
	h.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	h.Set("webhook-signature", webhooks.Sign(newKey, "msg_01M8T0000000000000000000AA", now, body)+" "+
		webhooks.Sign(oldKey, "msg_01M8T0000000000000000000AA", now, body))
	for _, s := range []string{oldSecret, newSecret} {
		if err := receiver.Verify(s, h, body, now); err != nil {
			t.Errorf("%s…: %v", s[:10], err)
		}
	}
	if receiver.Verify(otherSecret, h, body, now) == nil {
		t.Error("another secret verifies")
	}
	if receiver.Verify(newSecret, h, []byte(`{"type":"rapport.customer.archived"}`), now) == nil {
		t.Error("a changed body verifies")
	}
	if receiver.Verify(newSecret, h, body, now.Add(10*time.Minute)) == nil {
		t.Error("a stale timestamp verifies")
	}
}

// docs/partners.md shows the example as it is.
func TestThePartnersGuideShowsTheExample(t *testing.T) {
	src, err := os.ReadFile("verify.go")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../../docs/partners.md")
	if err != nil {
		t.Fatal(err)
	}
	_, code, _ := strings.Cut(string(src), "\nimport (")
	if !strings.Contains(string(doc), "import ("+code) {
		t.Error("docs/partners.md does not show examples/webhook-receiver/verify.go from its imports on")
	}
}
