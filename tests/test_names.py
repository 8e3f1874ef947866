"""Names: identifiers as words, prefixes learnt per directory, and the verb of a function name.

The directories below are small made-up sets of names in the style of the trees they are named
after; nothing here is read from a real tree.
"""

from __future__ import annotations

import pytest

from misnomer.names import NameModel, NameParts, VerbVocabulary, split_words

VOCAB = VerbVocabulary.load()

KVM_MMU = "arch/x86/kvm/mmu"  # every name starts with kvm_mmu_
KVM = "arch/x86/kvm"  # kvm_ names with many objects: only kvm_ is shared by 4 or more
NET = "net/core"
FS = "fs"
LIB = "lib"

NAMES = {
    KVM_MMU: ["kvm_mmu_load", "kvm_mmu_unload", "kvm_mmu_reload", "kvm_mmu_reset_context",
              "kvm_mmu_create", "kvm_mmu_destroy", "mmu_free_roots"],
    KVM: ["kvm_vcpu_reset", "kvm_arch_init", "kvm_arch_exit", "kvm_set_cr0", "kvm_get_cr0",
          "kvm_mmu_reload", "kvm_mmu_load", "kvm_apic_accept", "kvm_emulate_halt"],
    NET: ["skb_ensure_writable", "skb_put", "skb_pull", "skb_push", "skb_vlan_pop",
          "__skb_vlan_pop", "skb_vlan_push", "skb_copy_bits", "skb_trim"],
    FS: ["ensure_good_fd", "get_unused_fd", "get_file", "get_max_files", "get_fs_type",
         "do_sys_open"],
    LIB: ["maybe_load_x", "load_x_if_needed", "clear_locked", "ReadRegister32",
          "WriteRegister32"],
}


@pytest.fixture(scope="module")
def model() -> NameModel:
    return NameModel.learn(NAMES, VOCAB)


def parts(model: NameModel, name: str, directory: str) -> tuple:
    p = model.parse(name, directory)
    return p.prefix, p.verb, p.role, p.qualifiers


# --- words -------------------------------------------------------------------------------------

@pytest.mark.parametrize("identifier, words", [
    ("kvm_mmu_reload", ("kvm", "mmu", "reload")),
    ("__skb_vlan_pop", ("skb", "vlan", "pop")),
    ("ReadRegister32", ("read", "register", "32")),
    ("HTTPServerStart", ("http", "server", "start")),
    ("x86_cpu_init", ("x86", "cpu", "init")),  # a single letter and its digits stay one word
    ("load_x_if_needed", ("load", "x", "if", "needed")),
    ("kvm__double", ("kvm", "double")),
    ("_trailing_", ("trailing",)),
    ("", ()),
])
def test_split_words(identifier, words):
    assert split_words(identifier) == words


# --- prefixes ----------------------------------------------------------------------------------

def test_prefixes_are_learnt_per_directory(model):
    assert model.dir_prefixes[KVM_MMU] == {("kvm",), ("kvm", "mmu")}
    assert model.dir_prefixes[KVM] == {("kvm",)}
    assert model.dir_prefixes[NET] == {("skb",)}
    assert FS not in model.dir_prefixes and LIB not in model.dir_prefixes
    assert model.global_prefixes == set()


def test_verbs_are_not_taken_as_prefixes():
    """Five names starting with get_ share a leading word, but a verb ends a prefix."""
    names = {"drivers/x": ["get_foo", "get_bar", "get_baz", "get_qux", "get_quux",
                           "set_foo", "set_bar", "set_baz", "set_qux"]}
    model = NameModel.learn(names, VOCAB)
    assert model.dir_prefixes == {}
    assert parts(model, "get_foo", "drivers/x") == ((), "get", "verb_object", ())


def test_a_prefix_needs_four_functions():
    three = NameModel.learn({"d": ["abc_open", "abc_close", "abc_read"]}, VOCAB)
    four = NameModel.learn({"d": ["abc_open", "abc_close", "abc_read", "abc_write"]}, VOCAB)
    assert three.dir_prefixes == {}
    assert four.dir_prefixes == {"d": {("abc",)}}
    assert three.parse("abc_open", "d").role == "object_verb"
    assert four.parse("abc_open", "d").role == "prefix_verb"


def test_global_prefixes_apply_in_every_directory():
    objects = ["page", "node", "inode", "block", "entry", "table", "slot", "frame", "zone",
               "bank", "lane", "ring"]
    names = {f"fs/gfs{i}": [f"gfs_{o}_init" for o in objects]
             + [f"gfs_{o}_free" for o in objects[:9]] for i in range(2)}
    names["fs/other"] = ["gfs_page_init", "xyz_open", "abc_close", "def_read", "ghi_write"]
    model = NameModel.learn(names, VOCAB)
    assert model.global_prefixes == {("gfs",)}
    assert "fs/other" not in model.dir_prefixes
    assert parts(model, "gfs_page_init", "fs/other") == (("gfs",), "init", "prefix_object_verb",
                                                         ())


def test_words_used_in_verb_position_across_the_tree_become_verbs():
    """'serialize' is not in the base list; 42 names in 14 directories use it right after their
    prefix.  'devdata' sits there as often but does not look like a verb."""
    names = {}
    for letter in "abcdefghijklmn":
        names[f"d{letter}"] = [f"pf{letter}_{w}_{o}" for w in ("serialize", "devdata")
                               for o in ("page", "node", "inode")]
    model = NameModel.learn(names, VOCAB)
    assert "serialize" not in VOCAB.words
    assert model.tree_verbs == {"serialize"}
    assert parts(model, "pfa_serialize_page", "da") == (("pfa",), "serialize",
                                                        "prefix_verb_object", ())
    assert model.parse("pfa_devdata_page", "da").verb is None


def test_model_round_trips_through_json(model):
    again = NameModel.from_json_obj(model.to_json_obj(), VOCAB)
    for directory, names in NAMES.items():
        for name in names:
            assert again.parse(name, directory) == model.parse(name, directory)


# --- verbs and roles ---------------------------------------------------------------------------

@pytest.mark.parametrize("name, directory, expected", [
    # kvm_ is the prefix, mmu the object, reload the verb at the end
    ("kvm_mmu_reload", KVM, (("kvm",), "reload", "prefix_object_verb", ())),
    # where every name starts with kvm_mmu_, that whole sequence is the prefix
    ("kvm_mmu_reload", KVM_MMU, (("kvm", "mmu"), "reload", "prefix_verb", ())),
    ("kvm_mmu_reset_context", KVM_MMU, (("kvm", "mmu"), "reset", "prefix_verb_object", ())),
    ("skb_ensure_writable", NET, (("skb",), "ensure", "prefix_verb_object", ())),
    ("skb_put", NET, (("skb",), "put", "prefix_verb", ())),
    ("ensure_good_fd", FS, ((), "ensure", "verb_object", ())),
    ("__skb_vlan_pop", NET, (("skb",), "pop", "prefix_object_verb", ("internal",))),
    ("maybe_load_x", LIB, ((), "load", "verb_object", ("maybe",))),
    ("load_x_if_needed", LIB, ((), "load", "verb_object", ("if_needed",))),
    ("clear_locked", LIB, ((), "clear", "verb", ("locked",))),
    ("ReadRegister32", LIB, ((), "read", "verb_object", ())),
    ("do_sys_open", FS, ((), "open", "object_verb", ("do",))),
    ("kvm_apic_accept", KVM, (("kvm",), None, "none", ())),  # no verb at all
])
def test_parse(model, name, directory, expected):
    assert parts(model, name, directory) == expected


def test_parse_keeps_the_name_and_its_words(model):
    assert model.parse("__skb_vlan_pop", NET) == NameParts(
        "__skb_vlan_pop", ("skb", "vlan", "pop"), ("skb",), "pop", "prefix_object_verb",
        ("internal",))


def test_a_lone_qualifier_is_the_verb(model):
    """`maybe` alone is not stripped: a qualifier needs something left to qualify."""
    assert parts(model, "maybe", LIB) == ((), "maybe", "verb", ())


def test_a_noun_that_is_also_a_verb_can_lead_a_predicate():
    names = {"block": ["queue_is_mq", "queue_is_busy", "queue_has_tags", "queue_max_sectors",
                       "queue_logical_block_size"]}
    model = NameModel.learn(names, VOCAB)
    assert model.parse("queue_is_mq", "block").verb == "is"


def test_a_prefix_with_digits_is_learnt_whole():
    names = {"drivers/rtl": ["rtl92c_phy_set_bw_mode", "rtl92c_phy_get_txpower",
                             "rtl92c_phy_sw_chnl", "rtl92c_phy_set_txpower",
                             "rtl92c_phy_query_bb_reg"]}
    model = NameModel.learn(names, VOCAB)
    p = model.parse("rtl92c_phy_set_bw_mode", "drivers/rtl")
    assert (p.prefix[-1], p.verb, p.role) == ("phy", "set", "prefix_verb_object")


# --- the vocabulary ----------------------------------------------------------------------------

def test_vocabulary_promises():
    assert VOCAB.promises("reload", "unconditional_action")
    assert VOCAB.promises("is", "predicate")
    assert VOCAB.promises("free", "free") and VOCAB.promises("free", "release")
    assert not VOCAB.promises("ensure", "unconditional_action")
    # a write skipped when the value is already there is what readers of `foo_write` expect
    assert not VOCAB.promises("write", "unconditional_action")
    assert not VOCAB.promises(None, "predicate")
    assert not VOCAB.promises("reload", "no-such-promise")


def test_extra_verbs_are_verbs():
    vocab = VerbVocabulary.load(["frob"])
    assert "frob" in vocab.words and "frob" not in VOCAB.words
    model = NameModel.learn({"d": ["gadget_frob"]}, vocab)
    assert model.parse("gadget_frob", "d").verb == "frob"
    assert NameModel.learn({"d": ["gadget_frob"]}, VOCAB).parse("gadget_frob", "d").verb is None


# --- question words, quantifiers, prepositions, and `can` the bus --------------------------------

BARE = NameModel.learn({}, VOCAB)  # nothing learnt: only the vocabulary and the directory speak


@pytest.mark.parametrize("name, directory, verb", [
    # a question word leads: `set` after it describes the answer
    ("__sctp_map_is_all_set", "net/sctp", "is"),
    ("map_has_all_set", "lib", "has"),
    # after a quantifier a verb is an adjective: no verb at all
    ("sparsebit_any_set", "lib", None),
    ("bitmap_all_set", "lib", None),
    # after a preposition a verb is a noun
    ("nested_exit_on_init", "arch/x86/kvm", "exit"),
    ("port_wait_for_reset", "drivers/net", "wait"),
])
def test_question_words_quantifiers_and_prepositions(name, directory, verb):
    assert BARE.parse(name, directory).verb == verb


@pytest.mark.parametrize("name, directory, expected", [
    ("pch_can_set_mode", "drivers/net/can", "set"),
    ("can_rx_register", "net/can", "register"),
    ("c_can_irq_control", "drivers/net/can/c_can", None),
    ("mcba_usb_process_ka_can", "drivers/net/can/usb", "process"),  # a keep-alive CAN frame
])
def test_can_names_the_bus_where_a_directory_is_called_can(name, directory, expected):
    """There `can` is never the verb: the verb is what follows it, if anything."""
    assert BARE.parse(name, directory).verb == expected


def test_a_leading_can_is_a_prefix_where_it_names_the_bus():
    assert BARE.parse("can_rx_register", "net/can").prefix == ("can",)


@pytest.mark.parametrize("name, directory", [
    ("gate_can_run", "lib"),
    ("gate_can_run", "drivers/net"),
    ("can_sleep_now", "kernel/sched"),
    ("can_sleep_now", "drivers/net/canbus"),  # a directory called canbus is not `can`
])
def test_can_is_a_question_elsewhere(name, directory):
    assert BARE.parse(name, directory).verb == "can"


def test_the_same_name_reads_differently_inside_and_outside_can():
    assert BARE.parse("can_sleep_now", "kernel").verb == "can"
    assert BARE.parse("can_sleep_now", "drivers/net/can").verb is None


@pytest.mark.parametrize("name, directory, expected", [
    ("cam_is_enable_clocks", "drivers/media/cam-is", "enable"),  # cam-is: an imaging subsystem
    ("cam_is_enable_clocks", "drivers/media/cam", "is"),
    ("sc21is700_setup_transfer", "drivers/spi", "setup"),  # `is` inside a part number
    ("port_is_700_ready", "drivers/spi", "is"),  # only between two numbers
])
def test_a_question_word_that_is_part_of_a_name_or_a_part_number(name, directory, expected):
    assert BARE.parse(name, directory).verb == expected


@pytest.mark.parametrize("name", ["blk_write_failed", "xfer_reset_done", "dma_load_complete",
                                  "cmd_flush_timeout"])
def test_a_name_ending_in_an_event_word_has_no_verb(name):
    parts = BARE.parse(name, "drivers")
    assert (parts.verb, parts.role) == (None, "none")


def test_a_question_about_an_event_keeps_its_question_word():
    assert BARE.parse("is_reset_done", "drivers").verb == "is"


@pytest.mark.parametrize("name, directory, expected", [
    ("what_owner_is_waiting_for", "fs", None),  # a question named by its answer
    ("lnk_ev_rx_cmd_pbit_set_1", "net/lnk", None),  # "the P bit is set to 1"
    ("sec_flags_handle_must_flags", "fs/smb", "handle"),  # MUST names flags
    ("ip_set_get_h16", "include/ipset", "get"),  # ip_set names the subsystem
    ("dm_clone_find_next_region", "drivers/md", "find"),  # so does dm-clone
    ("nft_set_elem_is_dead", "net/netfilter", "is"),  # `is` decides wherever it stands
    ("ReadRegister32", "lib", "read"),  # a width, not a bit value
    ("set_pool_was_full", "net/ceph", "set"),  # was_full names the field it sets
])
def test_words_in_verb_position_that_are_not_the_verb(name, directory, expected):
    assert BARE.parse(name, directory).verb == expected


@pytest.mark.parametrize("name, verb, rivals", [
    # two verbs: which one the name means cannot be told from the words alone
    ("update_cfs_rq_h_load", "load", ("update",)),
    ("propagate_entity_load_avg", "load", ("propagate",)),
    ("otx_cpt_set_eng_grps_is_rdonly", "is", ("set",)),
    ("echo_can_disable_detector_update", "can", ("update",)),
    # a question word asks about what follows it: no rival there
    ("i40e_can_reuse_rx_page", "can", ()),
    ("pqi_is_parity_write_stream", "is", ()),
    # one verb, and nouns or links that are also in the verb list
    ("kvm_mmu_reload", "reload", ()),
    ("skb_ensure_writable", "ensure", ()),
    ("mwifiex_reset_link_state", "reset", ()),
    ("copy_from_user", "copy", ()),
    # a verb before a question word names what is updated (the field is_inter)
    ("update_is_inter_probs", "is", ("update",)),
    ("neigh_update_is_router", "is", ("update",)),
    # a handler for IS_EX records, not a question
    ("amt_mcast_is_ex_handler", "is", ("handler",)),
    # a part number that starts with a question word
    ("is31fl32xx_reset_regs", "reset", ()),
    # a getter of a field named like a question
    ("ec_get_a_is_pminus3", "is", ("get",)),
    # compare-and-exchange: the exchange is what it does
    ("cmp_exch", "cmp", ("exch",)),
])
def test_rival_verbs_are_noted(model, name, verb, rivals):
    p = model.parse(name, LIB)
    assert (p.verb, p.rivals) == (verb, rivals)
