"""fastrnn's layers other than the recurrent cells (attention.py: chapter 8's attention)."""
