"""Preference losses against their formulas written out by hand (probabilities, not log-space tricks)."""
import math

import pytest
import torch

from sartor.train.preference import losses as L
from sartor.utils.errors import SartorError

torch.manual_seed(0)
PC, PR, RC, RR = (torch.randn(6, dtype=torch.float64) * 5 - 20 for _ in range(4))


def sig(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def test_dpo_sigmoid_is_minus_log_sigmoid_of_the_scaled_log_ratio_difference():
    beta = 0.1
    losses, rc, rr = L.dpo_loss(PC, PR, RC, RR, beta)
    for i in range(6):
        delta = (PC[i] - RC[i]) - (PR[i] - RR[i])
        assert losses[i].item() == pytest.approx(-math.log(sig(beta * delta.item())), rel=1e-9)
        assert rc[i].item() == pytest.approx(beta * (PC[i] - RC[i]).item())
        assert rr[i].item() == pytest.approx(beta * (PR[i] - RR[i]).item())


def test_dpo_at_the_reference_is_log_2_and_label_smoothing_mixes_both_directions():
    losses, _, _ = L.dpo_loss(PC, PR, PC, PR, beta=0.5)
    assert torch.allclose(losses, torch.full_like(losses, math.log(2)))
    beta, eps = 0.2, 0.1
    smoothed, _, _ = L.dpo_loss(PC, PR, RC, RR, beta, label_smoothing=eps)
    delta = (PC - RC) - (PR - RR)
    want = -(1 - eps) * torch.log(torch.sigmoid(beta * delta)) - eps * torch.log(torch.sigmoid(-beta * delta))
    assert torch.allclose(smoothed, want)


def test_dpo_variants():
    beta = 0.1
    delta = (PC - RC) - (PR - RR)
    hinge, _, _ = L.dpo_loss(PC, PR, RC, RR, beta, "hinge")
    assert torch.allclose(hinge, torch.relu(1 - beta * delta))
    nc, nr = torch.tensor([3.0] * 6, dtype=torch.float64), torch.tensor([5.0] * 6, dtype=torch.float64)
    ipo, _, _ = L.dpo_loss(PC, PR, RC, RR, beta, "ipo", chosen_tokens=nc, rejected_tokens=nr)
    assert torch.allclose(ipo, ((PC - RC) / 3 - (PR - RR) / 5 - 1 / (2 * beta)) ** 2)
    robust, _, _ = L.dpo_loss(PC, PR, RC, RR, beta, "robust", label_smoothing=0.0)
    plain, _, _ = L.dpo_loss(PC, PR, RC, RR, beta)
    assert torch.allclose(robust, plain)


def test_cpo_and_simpo():
    beta = 0.1
    cpo, rc, _ = L.cpo_loss(PC, PR, beta)
    assert torch.allclose(cpo, -torch.log(torch.sigmoid(beta * (PC - PR))))
    assert torch.allclose(rc, beta * PC)
    mc, mr = PC / 4, PR / 7
    simpo, rc, rr = L.simpo_loss(mc, mr, beta=2.0, gamma=1.0)
    assert torch.allclose(simpo, -torch.log(torch.sigmoid(2.0 * (mc - mr) - 1.0)))
    assert torch.allclose(rc - rr, 2.0 * (mc - mr))


def test_orpo_odds_ratio_from_probabilities():
    beta = 0.1
    mc = torch.tensor([-0.1, -0.7, -2.0, -5.0], dtype=torch.float64)
    mr = torch.tensor([-0.3, -0.2, -4.0, -0.01], dtype=torch.float64)
    losses, _, _ = L.orpo_odds_term(mc, mr, beta)
    for c, r, got in zip(mc.tolist(), mr.tolist(), losses.tolist()):
        pc, pr = math.exp(c), math.exp(r)
        log_or = math.log(pc / (1 - pc)) - math.log(pr / (1 - pr))
        assert got == pytest.approx(-beta * math.log(sig(log_or)), rel=1e-6)


def test_log1mexp_is_stable_on_both_branches():
    x = torch.tensor([-1e-8, -0.5, -0.7, -50.0], dtype=torch.float64)
    assert torch.allclose(L.log1mexp(x), torch.log(1 - torch.exp(x)), rtol=1e-6)


def test_kto_losses_per_label():
    beta, kl = 0.1, torch.tensor(0.3, dtype=torch.float64)
    desirable = torch.tensor([True, False, True, False, True, False])
    losses, rewards = L.kto_loss(PC, RC, desirable, kl, beta, desirable_weight=1.5, undesirable_weight=0.5)
    ratio = PC - RC
    for i in range(6):
        if desirable[i]:
            want = 1.5 * (1 - sig(beta * (ratio[i] - kl).item()))
        else:
            want = 0.5 * (1 - sig(beta * (kl - ratio[i]).item()))
        assert losses[i].item() == pytest.approx(want)
    assert torch.allclose(rewards, beta * ratio)


def test_reward_model_pairwise_loss():
    losses, rc, rr = L.reward_model_loss(torch.tensor([2.0, -1.0]), torch.tensor([0.0, 1.0]))
    assert losses.tolist() == pytest.approx([-math.log(sig(2.0)), -math.log(sig(-2.0))], rel=1e-6)
    assert rc.tolist() == [2.0, -1.0] and rr.tolist() == [0.0, 1.0]


def test_sequence_logps_sums_the_labelled_next_token_log_probs():
    torch.manual_seed(1)
    logits = torch.randn(3, 6, 11)
    labels = torch.full((3, 6), -100)
    labels[0, 2:5] = torch.tensor([1, 2, 3])
    labels[1, 1:6] = torch.tensor([4, 5, 6, 7, 8])
    labels[2, 5] = 9
    sums, counts = L.sequence_logps(logits, labels, chunk_rows=2)
    logp = torch.log_softmax(logits, -1)
    for i in range(3):
        want = sum(logp[i, t - 1, labels[i, t]].item() for t in range(6) if labels[i, t] != -100)
        assert sums[i].item() == pytest.approx(want, rel=1e-5)
    assert counts.tolist() == [3, 5, 1]


def test_loss_types_are_checked_per_method():
    assert L.check_loss_type("dpo", None) == "sigmoid" and L.check_loss_type("simpo", None) == "simpo"
    assert L.check_loss_type("dpo", "ipo") == "ipo"
    with pytest.raises(SartorError, match="choose one of"):
        L.check_loss_type("orpo", "hinge")
