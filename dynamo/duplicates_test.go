package dynamo_test

import (
	"slices"
	"testing"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
)

func TestDuplicateCandidatesByName(t *testing.T) {
	e := mustEnv(t)
	acme := mustCreate(t, e, admin, crm.CustomerInput{Name: "Acme Power Co., Ltd.", Team: "north"})
	typo := mustCreate(t, e, admin, crm.CustomerInput{Name: "Acme Powr", Team: "south"})
	mustCreate(t, e, admin, crm.CustomerInput{Name: "Acorn Textiles"})
	mustCreate(t, e, admin, crm.CustomerInput{Name: "Jinlong Steel"})
	e.drain(t) // the search index, which the lookup reads, is the stream's

	got, err := e.svc.DuplicateCandidates(as(admin), "ACME power", "", 10)
	if err != nil {
		t.Fatal(err)
	}
	c := got.Candidates
	if !got.Complete || len(c) != 2 || c[0].Customer.ID != acme.ID || c[0].Score != 1 || c[1].Customer.ID != typo.ID || c[1].Score >= 0.9 {
		t.Fatalf("candidates: %+v", got)
	}
	// Excluding itself, and only what the caller may read.
	got, err = e.svc.DuplicateCandidates(as(manager), "Acme Power Co., Ltd.", acme.ID, 10)
	if err != nil || len(got.Candidates) != 0 {
		t.Fatalf("manager of north sees %+v (%v); the typo is in south", got, err)
	}
	for _, bad := range []string{" ", "()"} {
		if _, err := e.svc.DuplicateCandidates(as(admin), bad, "", 10); code(err) != crm.EINVALID {
			t.Fatalf("name %q: %v", bad, err)
		}
	}
}

// bulkNames are n organization names that all start with 北京, whose
// cores (the characters after it) sort before 华信科技: a first-two-letters
// bucket read in name order, cut at 500, never reaches 北京华信科技有限公司.
func bulkNames(n int) []crm.CustomerInput {
	first := []rune("东丰九乐书云亚京伟佳光兴冠凯创")
	second := []rune("一万三上世东丙丰临丹为主丽举久义乐乔书云互五井亚交京亿仁今仕")
	var ins []crm.CustomerInput
	for i := range n {
		name := "北京" + string(first[i/len(second)%len(first)]) + string(second[i%len(second)]) + "贸易有限公司"
		if i >= len(first)*len(second) {
			name = "北京" + string(first[i%len(first)]) + string(second[i/len(first)%len(second)]) + "商贸有限公司"
		}
		ins = append(ins, crm.CustomerInput{Name: name})
	}
	return ins
}

func TestDuplicateCandidatesCompareCoreNamesWhateverShareTheirStart(t *testing.T) {
	e := mustEnv(t)
	ins := bulkNames(600)
	// The three ways of writing one company, owned apart; and companies
	// whose core starts with its core.
	variants := []crm.CustomerInput{
		{Name: "北京华信科技有限公司", OwnerID: new("sales-1"), Team: "north"},
		{Name: "华信科技(北京)有限公司", OwnerID: new("sales-south"), Team: "south"},
		{Name: "华信科技有限公司", OwnerID: new("sales-2"), Team: "north"},
	}
	ins = append(ins, variants...)
	for _, s := range []string{"发展", "服务", "工程", "咨询", "软件", "系统", "网络", "电子"} {
		ins = append(ins, crm.CustomerInput{Name: "深圳市华信科技" + s + "有限公司"})
	}
	made := bulkCreate(t, e, admin, ins, 4)
	broken, err := dynamo.CheckInvariants(t.Context(), e.db, e.table)
	if err != nil || len(broken) > 0 {
		t.Fatalf("the bulk loader left a table its stream consumer would not: %v %v", err, broken[:min(len(broken), 10)])
	}
	ids := map[string]string{}
	for _, c := range made {
		ids[c.Name] = c.ID
	}

	t.Run("EachVariantFindsTheOthers", func(t *testing.T) {
		for _, v := range variants {
			got, err := e.svc.DuplicateCandidates(as(admin), v.Name, ids[v.Name], 100)
			if err != nil {
				t.Fatal(err)
			}
			var same []string
			for _, c := range got.Candidates {
				if c.Score >= 0.9 {
					same = append(same, c.Customer.Name)
				} else if c.Score < 0.5 {
					t.Errorf("%s: candidate %s scored %v", v.Name, c.Customer.Name, c.Score)
				}
			}
			var want []string
			for _, o := range variants {
				if o.Name != v.Name {
					want = append(want, o.Name)
				}
			}
			slices.Sort(same)
			slices.Sort(want)
			if !got.Complete || !slices.Equal(same, want) {
				t.Errorf("%s: same core %q (complete %v), want %q", v.Name, same, got.Complete, want)
			}
			// The longer cores are weaker candidates, after the variants.
			if n := len(got.Candidates); n != 2+8 || got.Candidates[n-1].Score >= 0.9 {
				t.Errorf("%s: %d candidates: %+v", v.Name, n, got.Candidates)
			}
		}
	})

	t.Run("TheSameWordsScoreOne", func(t *testing.T) {
		got, err := e.svc.DuplicateCandidates(as(admin), "北京华信科技 有限公司", "", 3)
		if err != nil || len(got.Candidates) != 3 || got.Candidates[0].Customer.ID != ids["北京华信科技有限公司"] || got.Candidates[0].Score != 1 ||
			got.Candidates[1].Score != 0.9 || got.Candidates[2].Score != 0.9 {
			t.Fatalf("candidates %+v, %v", got, err)
		}
	})

	t.Run("ANameAmongSixHundredSharingItsStart", func(t *testing.T) {
		last := ins[599].Name // 北京…: 600 names start with 北京
		core := []rune(last)[2:4]
		got, err := e.svc.DuplicateCandidates(as(admin), string(core)+"商贸(北京)有限公司", "", 10)
		if err != nil || len(got.Candidates) == 0 || got.Candidates[0].Customer.ID != ids[last] || got.Candidates[0].Score != 0.9 {
			t.Fatalf("%s not found: %+v %v", last, got, err)
		}
	})

	t.Run("OnlyWhatTheCallerMayRead", func(t *testing.T) {
		for _, tt := range []struct {
			u    *crm.User
			want []string
		}{
			{sales1, []string{"北京华信科技有限公司"}}, // its own; the others' owners are others
			{manager, []string{"北京华信科技有限公司", "华信科技有限公司"}},
			{managerSouth, []string{"华信科技(北京)有限公司"}},
		} {
			got, err := e.svc.DuplicateCandidates(as(tt.u), "华信科技", "", 100)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, c := range got.Candidates {
				if c.Score >= 0.9 {
					names = append(names, c.Customer.Name)
				}
				if _, err := e.svc.Customer(as(tt.u), c.Customer.ID); err != nil {
					t.Errorf("%s is given %s, which it may not read: %v", tt.u.ID, c.Customer.Name, err)
				}
			}
			slices.Sort(names)
			if !slices.Equal(names, tt.want) {
				t.Errorf("%s: %q, want %q", tt.u.ID, names, tt.want)
			}
		}
	})

	t.Run("TheBoundIsSaid", func(t *testing.T) {
		e.store.SetDuplicateRead(5)
		defer e.store.SetDuplicateRead(0)
		got, err := e.svc.DuplicateCandidates(as(admin), "华信科技", "", 100)
		if err != nil || got.Complete || len(got.Candidates) == 0 {
			t.Fatalf("11 customers start with 华信科技, 5 compared: %+v %v", got, err)
		}
	})

	t.Run("OnePhoneNumberHowEverWritten", func(t *testing.T) {
		holder := mustCreate(t, e, admin, crm.CustomerInput{Name: "Phone Holder", Phones: []string{"+86 138 1234 5678"}})
		for _, p := range []string{"13812345678", "138 1234 5678", "0086-138-1234-5678", "＋８６　１３８－１２３４－５６７８"} {
			_, err := e.svc.CreateCustomer(as(admin), crm.CustomerInput{Kind: crm.KindPerson, Name: "Second", Phones: []string{p}})
			var de *crm.Error
			if code(err) != crm.EDUPLICATE || !asErr(err, &de) || de.ExistingID != holder.ID {
				t.Errorf("%s: %v, want DUPLICATE naming %s", p, err, holder.ID)
			}
		}
	})
}
