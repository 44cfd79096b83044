(function(){var rows=[].slice.call(document.querySelectorAll('#questions tbody tr'));var state='all';
var box=document.getElementById('search');function apply(){var q=(box.value||'').toLowerCase();var n=0;
rows.forEach(function(r){var ok=(state==='all'||r.dataset.status===state)
&&(!q||r.textContent.toLowerCase().indexOf(q)>=0);
r.style.display=ok?'':'none';if(ok)n++;});document.getElementById('shown').textContent=n+' shown';}
[].forEach.call(document.querySelectorAll('.controls button'),function(b){b.addEventListener('click',function(){
state=b.dataset.status;[].forEach.call(document.querySelectorAll('.controls button'),
function(x){x.classList.toggle('on',x===b);});
apply();});});box.addEventListener('input',apply);apply();})();
